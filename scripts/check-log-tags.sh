#!/usr/bin/env bash
# Checks the module's log tags: each TA_LOGNO(n) in the sources is used
# once, every one is listed in LOGTAGS with the file that logs it, and
# LOGTAGS lists nothing else; and no message uses httpd's own APLOGNO range.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
code=$(grep -oh 'TA_LOGNO([0-9]*)' ./*.c | sed 's/TA_LOGNO(\([0-9]*\))/TA\1/' | sort)
dups=$(printf '%s\n' "$code" | uniq -d)
if [ -n "$dups" ]; then echo "log tags used more than once: $dups"; status=1; fi
listed=$(grep -o '^TA[0-9]*' LOGTAGS | sort)
ldups=$(printf '%s\n' "$listed" | uniq -d)
if [ -n "$ldups" ]; then echo "LOGTAGS lists a tag twice: $ldups"; status=1; fi
missing=$(comm -23 <(printf '%s\n' "$code" | uniq) <(printf '%s\n' "$listed" | uniq))
stale=$(comm -13 <(printf '%s\n' "$code" | uniq) <(printf '%s\n' "$listed" | uniq))
if [ -n "$missing" ]; then echo "log tags not listed in LOGTAGS: $missing"; status=1; fi
if [ -n "$stale" ]; then echo "LOGTAGS lists tags the code no longer uses: $stale"; status=1; fi
# The file column: each listed tag is logged from the file LOGTAGS names.
used_in=$(grep -o 'TA_LOGNO([0-9]*)' ./*.c | sed 's|^\./\(.*\):TA_LOGNO(\([0-9]*\))|TA\2 \1|' | sort -u)
named=$(awk '/^TA[0-9]/ { print $1, $2 }' LOGTAGS | sort -u)
misfiled=$(comm -23 <(printf '%s\n' "$used_in") <(printf '%s\n' "$named") | grep -wFf <(printf '%s\n' "$listed") || true)
if [ -n "$misfiled" ]; then echo "LOGTAGS names another file for these tags (tag, file that logs it): $misfiled"; status=1; fi
if grep -n 'APLOGNO(' ./*.c; then echo "httpd's APLOGNO range is httpd's own: use TA_LOGNO"; status=1; fi
n=$(printf '%s\n' "$code" | grep -c . || true)
if [ $status -eq 0 ]; then echo "log tags: $n, each used once and listed in LOGTAGS"; fi
exit $status
