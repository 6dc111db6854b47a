/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 66adef2f41efbb59e30802443efca411e98e513b */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_setStatus, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, code, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_getStatus, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_setHeader, 0, 2, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_FrankenPHP_Response_addHeader arginfo_class_FrankenPHP_Response_setHeader

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_removeHeader, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_getHeader, 0, 1, IS_STRING, 1)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_getHeaders, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_isHeadersSent, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_redirect, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, url, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, code, IS_LONG, 0, "302")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_write, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, data, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_end, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_Response_sendFile, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, contentType, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()


ZEND_METHOD(FrankenPHP_Response, setStatus);
ZEND_METHOD(FrankenPHP_Response, getStatus);
ZEND_METHOD(FrankenPHP_Response, setHeader);
ZEND_METHOD(FrankenPHP_Response, addHeader);
ZEND_METHOD(FrankenPHP_Response, removeHeader);
ZEND_METHOD(FrankenPHP_Response, getHeader);
ZEND_METHOD(FrankenPHP_Response, getHeaders);
ZEND_METHOD(FrankenPHP_Response, isHeadersSent);
ZEND_METHOD(FrankenPHP_Response, redirect);
ZEND_METHOD(FrankenPHP_Response, write);
ZEND_METHOD(FrankenPHP_Response, end);
ZEND_METHOD(FrankenPHP_Response, sendFile);


static const zend_function_entry class_FrankenPHP_Response_methods[] = {
	ZEND_ME(FrankenPHP_Response, setStatus, arginfo_class_FrankenPHP_Response_setStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, getStatus, arginfo_class_FrankenPHP_Response_getStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, setHeader, arginfo_class_FrankenPHP_Response_setHeader, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, addHeader, arginfo_class_FrankenPHP_Response_addHeader, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, removeHeader, arginfo_class_FrankenPHP_Response_removeHeader, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, getHeader, arginfo_class_FrankenPHP_Response_getHeader, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, getHeaders, arginfo_class_FrankenPHP_Response_getHeaders, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, isHeadersSent, arginfo_class_FrankenPHP_Response_isHeadersSent, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, redirect, arginfo_class_FrankenPHP_Response_redirect, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, write, arginfo_class_FrankenPHP_Response_write, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, end, arginfo_class_FrankenPHP_Response_end, ZEND_ACC_PUBLIC)
	ZEND_ME(FrankenPHP_Response, sendFile, arginfo_class_FrankenPHP_Response_sendFile, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_FrankenPHP_Response(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "FrankenPHP", "Response", class_FrankenPHP_Response_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
