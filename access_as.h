/* Whether a user could open a file, asked as that user: for checks made
 * while the configuration is read as root, of files that processes running
 * as another user will open later. No httpd, no Zend. */
#ifndef TA_ACCESS_AS_H
#define TA_ACCESS_AS_H

#include <sys/types.h>

/* Opens path read-only in a short-lived child that took the identity
 * (user's groups via initgroups(user_name, gid) unless user_name is NULL or
 * "#n", then gid, then uid; kept as they are when uid and gid are the
 * caller's), so ACLs and every directory on the way count.
 * 0 readable, an errno when not, -1 when it cannot be told (fork failed,
 * the identity could not be taken). Only from a single-threaded process. */
int ta_access_as(const char *path, uid_t uid, gid_t gid, const char *user_name);

#endif
