#include "php_request_ini.h"
#include "php_fn_hook.h"

static bool same_str(zend_string *a, zend_string *b) { return a == b || (a && b && zend_string_equals(a, b)); }

/* Puts a setting back (the value before a request, or the request's own
 * when it runs again). In PHP's own stage for that, DEACTIVATE: the checks
 * meant for user code (open_basedir only tightens, session.* refuse changes
 * once output was sent) do not apply to an undo, as at PHP's request end. */
static void set_value(zend_string *name, zval *v)
{
    zend_ini_entry *e = zend_hash_find_ptr(EG(ini_directives), name);
    if (!e) return;
    zend_string *want = Z_TYPE_P(v) == IS_STRING ? Z_STR_P(v) : NULL;
    if (same_str(e->value, want)) return;
    if (!want || (e->modified && same_str(e->orig_value, want)))
        zend_restore_ini_entry(name, ZEND_INI_STAGE_DEACTIVATE);
    else
        zend_alter_ini_entry_ex(name, want, ZEND_INI_ALL, ZEND_INI_STAGE_DEACTIVATE, 1);
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
static void remember_val(zend_string *name, zend_string *before)
{
    ta_request_ini *ini = tl_ini;
    if (!ini) return;
    if (!zend_hash_exists(EG(ini_directives), name) || (ini->before && zend_hash_exists(ini->before, name)))
        return;
    if (!ini->before) ini->before = new_table();
    zval v;
    if (before) ZVAL_STR_COPY(&v, before); else ZVAL_NULL(&v);
    zend_hash_add_new(ini->before, name, &v);
}

static void remember_str(zend_string *name) { remember_val(name, zend_ini_get_value(name)); }

/* ---- changes made any other way (an extension's zend_alter_ini_entry(),
 * error_reporting(), set_time_limit(), assert_options()...) ---------------- */

/* What the modified settings were when the request's code began to run. */
static void snapshot(ta_request_ini *ini)
{
    HashTable *mod = EG(modified_ini_directives);
    uint32_t n = mod ? zend_hash_num_elements(mod) : 0;
    ini->n_seen = 0;
    ini->snapped = true;
    if (!n) return;
    if (n > ini->cap_seen) {
        ini->seen = erealloc(ini->seen, n * sizeof *ini->seen);
        ini->cap_seen = n;
    }
    zend_ini_entry *e;
    ZEND_HASH_FOREACH_PTR(mod, e) {
        ini->seen[ini->n_seen].entry = e;
        ini->seen[ini->n_seen].value = e->value ? zend_string_copy(e->value) : NULL;
        ini->n_seen++;
    } ZEND_HASH_FOREACH_END();
}

static ta_ini_seen *seen_of(ta_request_ini *ini, zend_ini_entry *e)
{
    for (uint32_t i = 0; i < ini->n_seen; i++) if (ini->seen[i].entry == e) return &ini->seen[i];
    return NULL;
}

/* Every setting changed since the snapshot is remembered with its value
 * then (one not modified then had its start-up value). */
static void catch_changes(ta_request_ini *ini)
{
    if (!ini->snapped) return;
    ini->snapped = false;
    ta_request_ini *keep = tl_ini;
    tl_ini = ini;
    for (uint32_t i = 0; i < ini->n_seen; i++)
        if (ini->seen[i].entry->value != ini->seen[i].value) remember_val(ini->seen[i].entry->name, ini->seen[i].value);
    HashTable *mod = EG(modified_ini_directives);
    zend_ini_entry *e;
    if (mod) ZEND_HASH_FOREACH_PTR(mod, e) {
        if (!seen_of(ini, e)) remember_val(e->name, e->orig_value);
    } ZEND_HASH_FOREACH_END();
    for (uint32_t i = 0; i < ini->n_seen; i++) if (ini->seen[i].value) zend_string_release(ini->seen[i].value);
    ini->n_seen = 0;
    tl_ini = keep;
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
    catch_changes(ini);
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
    if (ini->stash) {
        zend_string *name;
        zval *v;
        ZEND_HASH_FOREACH_STR_KEY_VAL(ini->stash, name, v) {
            set_value(name, v);
        } ZEND_HASH_FOREACH_END();
        free_table(&ini->stash);
    }
    snapshot(ini);
}

void ta_request_ini_adopt(ta_request_ini *ini, const char *prefix)
{
    catch_changes(ini);
    size_t len = strlen(prefix);
    if (ini->before) {
        zend_string *name;
        ZEND_HASH_FOREACH_STR_KEY(ini->before, name) {
            if (ZSTR_LEN(name) > len && memcmp(ZSTR_VAL(name), prefix, len) == 0)
                zend_hash_del(ini->before, name);
        } ZEND_HASH_FOREACH_END();
    }
    snapshot(ini);      /* what it has now is where its later changes start */
}

void ta_request_ini_end(ta_request_ini *ini)
{
    catch_changes(ini);
    if (ini->before) {
        zend_string *name;
        zval *before;
        ZEND_HASH_FOREACH_STR_KEY_VAL(ini->before, name, before) {
            set_value(name, before);
        } ZEND_HASH_FOREACH_END();
    }
    free_table(&ini->before);
    free_table(&ini->stash);
    if (ini->seen) efree(ini->seen);
    ini->seen = NULL;
    ini->cap_seen = 0;
}
