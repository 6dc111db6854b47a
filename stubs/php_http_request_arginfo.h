/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: a6d145ce78dd7810def2696226f5b08acae03d38 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Request_getMethod, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_FrankenPHP_Request_getUri arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_Request_getHost arginfo_class_FrankenPHP_Request_getMethod

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Request_getHeader, 0, 1, IS_STRING, 1)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Request_getHeaders, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_FrankenPHP_Request_getRemoteAddr arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_Request_getProtocolVersion arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_Request_getScheme arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_Request_getQueryParams arginfo_class_FrankenPHP_Request_getHeaders

#define arginfo_class_FrankenPHP_Request_getCookies arginfo_class_FrankenPHP_Request_getHeaders

#define arginfo_class_FrankenPHP_Request_getBody arginfo_class_FrankenPHP_Request_getMethod

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Request_getParsedBody, 0, 0, IS_ARRAY, 1)
ZEND_END_ARG_INFO()

#define arginfo_class_FrankenPHP_Request_getUploadedFiles arginfo_class_FrankenPHP_Request_getHeaders

#define arginfo_class_FrankenPHP_UploadedFile_getName arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_UploadedFile_getType arginfo_class_FrankenPHP_Request_getMethod

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_UploadedFile_getSize, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_FrankenPHP_UploadedFile_getTmpName arginfo_class_FrankenPHP_Request_getMethod

#define arginfo_class_FrankenPHP_UploadedFile_getError arginfo_class_FrankenPHP_UploadedFile_getSize

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_UploadedFile_moveTo, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
ZEND_END_ARG_INFO()


ZEND_METHOD(FrankenPHP_Request, getMethod);
ZEND_METHOD(FrankenPHP_Request, getUri);
ZEND_METHOD(FrankenPHP_Request, getHost);
ZEND_METHOD(FrankenPHP_Request, getHeader);
ZEND_METHOD(FrankenPHP_Request, getHeaders);
ZEND_METHOD(FrankenPHP_Request, getRemoteAddr);
ZEND_METHOD(FrankenPHP_Request, getProtocolVersion);
ZEND_METHOD(FrankenPHP_Request, getScheme);
ZEND_METHOD(FrankenPHP_Request, getQueryParams);
ZEND_METHOD(FrankenPHP_Request, getCookies);
ZEND_METHOD(FrankenPHP_Request, getBody);
ZEND_METHOD(FrankenPHP_Request, getParsedBody);
ZEND_METHOD(FrankenPHP_Request, getUploadedFiles);
ZEND_METHOD(FrankenPHP_UploadedFile, getName);
ZEND_METHOD(FrankenPHP_UploadedFile, getType);
ZEND_METHOD(FrankenPHP_UploadedFile, getSize);
ZEND_METHOD(FrankenPHP_UploadedFile, getTmpName);
ZEND_METHOD(FrankenPHP_UploadedFile, getError);
ZEND_METHOD(FrankenPHP_UploadedFile, moveTo);


static const zend_function_entry class_FrankenPHP_Request_methods[] = {
	ZEND_ME(FrankenPHP_Request, getMethod, arginfo_class_FrankenPHP_Request_getMethod, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getUri, arginfo_class_FrankenPHP_Request_getUri, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getHost, arginfo_class_FrankenPHP_Request_getHost, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getHeader, arginfo_class_FrankenPHP_Request_getHeader, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getHeaders, arginfo_class_FrankenPHP_Request_getHeaders, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getRemoteAddr, arginfo_class_FrankenPHP_Request_getRemoteAddr, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getProtocolVersion, arginfo_class_FrankenPHP_Request_getProtocolVersion, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getScheme, arginfo_class_FrankenPHP_Request_getScheme, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getQueryParams, arginfo_class_FrankenPHP_Request_getQueryParams, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getCookies, arginfo_class_FrankenPHP_Request_getCookies, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getBody, arginfo_class_FrankenPHP_Request_getBody, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getParsedBody, arginfo_class_FrankenPHP_Request_getParsedBody, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Request, getUploadedFiles, arginfo_class_FrankenPHP_Request_getUploadedFiles, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_FrankenPHP_UploadedFile_methods[] = {
	ZEND_ME(FrankenPHP_UploadedFile, getName, arginfo_class_FrankenPHP_UploadedFile_getName, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_UploadedFile, getType, arginfo_class_FrankenPHP_UploadedFile_getType, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_UploadedFile, getSize, arginfo_class_FrankenPHP_UploadedFile_getSize, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_UploadedFile, getTmpName, arginfo_class_FrankenPHP_UploadedFile_getTmpName, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_UploadedFile, getError, arginfo_class_FrankenPHP_UploadedFile_getError, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_UploadedFile, moveTo, arginfo_class_FrankenPHP_UploadedFile_moveTo, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_FrankenPHP_Request(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "FrankenPHP", "Request", class_FrankenPHP_Request_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}

static zend_class_entry *register_class_FrankenPHP_UploadedFile(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "FrankenPHP", "UploadedFile", class_FrankenPHP_UploadedFile_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
