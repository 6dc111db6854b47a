#include "php_request_ini.h"
#include "php_fn_hook.h"

static void set_value(zend_string *name, zval *v)
{
    zend_string *cur = zend_ini_get_value(name);
    if (Z_TYPE_P(v) == IS_STRING) {
        if (cur && zend_string_equals(cur, Z_STR_P(v))) return;
        zend_alter_ini_entry_ex(name, Z_STR_P(v), PHP_INI_USER, PHP_INI_STAGE_RUNTIME, 0);
    } else if (cur) {
        zend_restore_ini_entry(name, PHP_INI_STAGE_RUNTIME);
    }
}

static HashTable *new_table(void)
{
    HashTable *ht;
    ALLOC_HASHTABLE(ht);
    zend_hash_init(ht, 8, NULL, ZVAL_PTR_DTOR, 0);
    return ht;
}

static void free_table(HashTable **ht)
{
    if (!*ht) return;
    zend_hash_destroy(*ht);
    FREE_HASHTABLE(*ht);
    *ht = NULL;
}

static __thread ta_request_ini *tl_ini;

void ta_request_ini_bind(ta_request_ini *ini) { tl_ini = ini; }

/* The first change of a setting in a request keeps its value before. */
static void remember_str(zend_string *name)
{
    ta_request_ini *ini = tl_ini;
    if (!ini) return;
    if (!zend_hash_exists(EG(ini_directives), name) || (ini->before && zend_hash_exists(ini->before, name)))
        return;
    if (!ini->before) ini->before = new_table();
    zend_string *cur = zend_ini_get_value(name);
    zval v;
    if (cur) ZVAL_STR_COPY(&v, cur); else ZVAL_NULL(&v);
    zend_hash_add_new(ini->before, name, &v);
}

void ta_request_ini_remember(const char *name)
{
    if (!tl_ini) return;
    zend_string *s = zend_string_init(name, strlen(name), 0);
    remember_str(s);
    zend_string_release(s);
}

static void remember(zend_execute_data *execute_data, const char *fixed)
{
    if (fixed) { ta_request_ini_remember(fixed); return; }
    if (ZEND_CALL_NUM_ARGS(execute_data) >= 1 && Z_TYPE_P(ZEND_CALL_ARG(execute_data, 1)) == IS_STRING)
        remember_str(Z_STR_P(ZEND_CALL_ARG(execute_data, 1)));
}

static zif_handler orig_ini_set, orig_ini_alter, orig_ini_restore, orig_set_include_path;

static ZEND_FUNCTION(ta_ini_set) { remember(execute_data, NULL); orig_ini_set(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
static ZEND_FUNCTION(ta_ini_alter) { remember(execute_data, NULL); orig_ini_alter(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
static ZEND_FUNCTION(ta_ini_restore) { remember(execute_data, NULL); orig_ini_restore(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
static ZEND_FUNCTION(ta_set_include_path)
{
    remember(execute_data, "include_path");
    orig_set_include_path(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_request_ini_install(void)
{
    static const ta_fn_hook hooks[] = {
        { "ini_set", &orig_ini_set, ZEND_FN(ta_ini_set) },
        { "ini_alter", &orig_ini_alter, ZEND_FN(ta_ini_alter) },
        { "ini_restore", &orig_ini_restore, ZEND_FN(ta_ini_restore) },
        { "set_include_path", &orig_set_include_path, ZEND_FN(ta_set_include_path) },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}

void ta_request_ini_swap_out(ta_request_ini *ini)
{
    if (!ini->before) return;
    zend_string *name;
    zval *before;
    ZEND_HASH_FOREACH_STR_KEY_VAL(ini->before, name, before) {
        if (!ini->stash) ini->stash = new_table();
        zend_string *cur = zend_ini_get_value(name);
        zval v;
        if (cur) ZVAL_STR_COPY(&v, cur); else ZVAL_NULL(&v);
        zend_hash_update(ini->stash, name, &v);
        set_value(name, before);
    } ZEND_HASH_FOREACH_END();
}

void ta_request_ini_swap_in(ta_request_ini *ini)
{
    if (!ini->stash) return;
    zend_string *name;
    zval *v;
    ZEND_HASH_FOREACH_STR_KEY_VAL(ini->stash, name, v) {
        set_value(name, v);
    } ZEND_HASH_FOREACH_END();
    free_table(&ini->stash);
}

void ta_request_ini_end(ta_request_ini *ini)
{
    if (ini->before) {
        zend_string *name;
        zval *before;
        ZEND_HASH_FOREACH_STR_KEY_VAL(ini->before, name, before) {
            set_value(name, before);
        } ZEND_HASH_FOREACH_END();
    }
    free_table(&ini->before);
    free_table(&ini->stash);
}
