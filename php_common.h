/* Included first by every file that talks to the Zend engine. */
#ifndef TA_PHP_COMMON_H
#define TA_PHP_COMMON_H

#define ZEND_ENABLE_STATIC_TSRMLS_CACHE 1
#include <php.h>
#include <SAPI.h>
#include <php_main.h>
#include <php_variables.h>
#include <zend_exceptions.h>
#include <zend_fibers.h>
#include <zend_interfaces.h>
#include <ext/spl/spl_exceptions.h>

ZEND_TSRMLS_CACHE_EXTERN()

#endif
