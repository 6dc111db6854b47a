/* Unit tests for access_as.c: a file opened as another user, in a child
 * that took its identity (root needed to take one; as an ordinary user only
 * the own identity works, and another one cannot be told). */
#define _GNU_SOURCE
#include "tap.h"
#include "../../access_as.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    const struct passwd *nobody = getpwnam("nobody");
    int as_root = geteuid() == 0 && nobody;
    /* as an ordinary user only what it can check is planned */
    tap_plan(as_root ? 6 : 3);
    char dir[] = "/tmp/ta-access-XXXXXX", file[64];
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(file, sizeof file, "%s/f", dir);
    FILE *f = fopen(file, "w");
    if (!f) { perror(file); return 1; }
    fclose(f);
    chmod(file, 0644);
    chmod(dir, 0700);

    tap_ok(ta_access_as(file, geteuid(), getegid(), NULL) == 0, "own identity: readable");
    tap_ok(ta_access_as("/nonexistent/x", geteuid(), getegid(), NULL) == ENOENT, "missing file: ENOENT");
    if (as_root) {
        tap_ok(ta_access_as("/etc/passwd", nobody->pw_uid, nobody->pw_gid, "nobody") == 0,
               "nobody reads /etc/passwd");
        tap_ok(ta_access_as(file, nobody->pw_uid, nobody->pw_gid, "nobody") == EACCES,
               "nobody cannot search a 0700 directory of root's: EACCES");
        chmod(dir, 0755);
        chmod(file, 0600);
        tap_ok(ta_access_as(file, nobody->pw_uid, nobody->pw_gid, "nobody") == EACCES,
               "nobody cannot read a 0600 file of root's: EACCES");
        tap_ok(ta_access_as(file, nobody->pw_uid, nobody->pw_gid, "#65534") == EACCES,
               "a numeric user name skips initgroups");
    } else {
        uid_t other = geteuid() == 1 ? 2 : 1;
        tap_ok(ta_access_as(file, other, other, NULL) == -1, "not root: another identity cannot be told");
    }
    unlink(file);
    rmdir(dir);
    return tap_done();
}
