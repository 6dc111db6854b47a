/* The module's own PHP extension ("trueasync"): its functions, and the
 * MINIT that registers every class, hook and the reactor. Given to the SAPI
 * at start-up by the PHP thread layer. */
#ifndef TA_PHP_MODULE_H
#define TA_PHP_MODULE_H

#include "php_common.h"

extern zend_module_entry ta_module_entry;

#endif
