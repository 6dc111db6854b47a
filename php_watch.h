/* TrueAsyncWatch: the files a booted worker script had included, watched
 * on the thread's reactor (inotify); a change marks the thread for a fresh
 * boot, and opcache forgets those files first so the boot compiles them
 * anew. PHP thread only. */
#ifndef TA_PHP_WATCH_H
#define TA_PHP_WATCH_H

#include "php_common.h"
#include "ta_async_api.h"

typedef struct ta_file_watch {
    zend_async_event_callback_t cb;     /* first: the callback finds its watch */
    zend_async_filesystem_event_t **evs;
    int n;
    bool changed;                       /* one of the files changed since start */
} ta_file_watch;

/* Watches every file in EG(included_files) (one that cannot be watched is
 * skipped). The struct outlives the thread's reactor runs. */
void ta_file_watch_start(ta_file_watch *fw);
/* Stops watching; `abandoned`: the reactor was thrown away after a
 * bailout, so the events are not touched, only forgotten. */
void ta_file_watch_release(ta_file_watch *fw, bool abandoned);
/* opcache_invalidate(file, true) for each watched file, if opcache is loaded. */
void ta_file_watch_invalidate(ta_file_watch *fw);

#endif
