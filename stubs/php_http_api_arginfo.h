/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 3465d2c869ff893c99fa1a7f50aae2c07f8a71e3 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_HttpServer_onRequest, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, callback, IS_CALLABLE, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_HttpServer_loop, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_FrankenPHP_HttpServer_handle, 0, 4, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, handler, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO(0, request, IS_OBJECT, 0)
	ZEND_ARG_TYPE_INFO(0, response, IS_OBJECT, 0)
	ZEND_ARG_TYPE_INFO(0, classic, _IS_BOOL, 0)
ZEND_END_ARG_INFO()


ZEND_METHOD(FrankenPHP_HttpServer, onRequest);
ZEND_METHOD(FrankenPHP_HttpServer, loop);
ZEND_METHOD(FrankenPHP_HttpServer, handle);


static const zend_function_entry class_FrankenPHP_HttpServer_methods[] = {
	ZEND_ME(FrankenPHP_HttpServer, onRequest, arginfo_class_FrankenPHP_HttpServer_onRequest, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(FrankenPHP_HttpServer, loop, arginfo_class_FrankenPHP_HttpServer_loop, ZEND_ACC_PRIVATE|ZEND_ACC_STATIC)
	ZEND_ME(FrankenPHP_HttpServer, handle, arginfo_class_FrankenPHP_HttpServer_handle, ZEND_ACC_PRIVATE|ZEND_ACC_STATIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_FrankenPHP_HttpServer(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "FrankenPHP", "HttpServer", class_FrankenPHP_HttpServer_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
