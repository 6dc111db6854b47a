/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 3256bc681e49a1570b8ec0f57968cd85613efb07 */

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_PDO_getPool, 0, 0, Async\\Pool, 1)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Async_Pool_pdoFactory, 0, 0, IS_OBJECT, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Async_Pool_pdoHealthcheck, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_OBJ_INFO(0, connection, PDO, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_Async_Pool_pdoBeforeRelease arginfo_class_Async_Pool_pdoHealthcheck
