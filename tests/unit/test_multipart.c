/* Unit tests for multipart.c: multipart/form-data over an in-memory body.
 * Every body is parsed from an exactly-sized heap copy, so ASan catches any
 * read past its end (bodies are not NUL-terminated on the wire). */
#define _GNU_SOURCE
#include "tap.h"
#include "../../multipart.h"

#include <stdlib.h>
#include <string.h>

#define B "XyZ-7f3a"   /* the boundary used by most bodies below */

static char *heap_copy(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    return p;
}

static int parse(const char *body, size_t len, const char *boundary, size_t max,
                 ta_mp_part **parts, size_t *n)
{
    char *copy = heap_copy(body, len);
    int rc = ta_multipart_parse(copy, len, boundary, max, parts, n);
    /* Parts point into the body: keep the copy alive with them. */
    if (rc == TA_MP_OK && *n) {
        for (size_t i = 0; i < *n; i++)
            if ((*parts)[i].data < copy || (*parts)[i].data + (*parts)[i].len > copy + len) rc = 99;
    }
    free(copy);
    if (rc == 99) tap_diag("a part points outside the body");
    return rc;
}

static int part_is(const ta_mp_part *p, const char *name, const char *filename,
                   const char *ctype, size_t len)
{
    return p->name && strcmp(p->name, name) == 0 &&
           (filename ? p->filename && strcmp(p->filename, filename) == 0 : !p->filename) &&
           (ctype ? p->content_type && strcmp(p->content_type, ctype) == 0 : !p->content_type) &&
           p->len == len;
}

static void test_boundary(void)
{
    char out[80];
    int n = ta_multipart_boundary("multipart/form-data; boundary=" B, out, sizeof out);
    tap_ok(n == 8 && strcmp(out, B) == 0, "boundary: plain token");
    n = ta_multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b:c\"", out, sizeof out);
    tap_ok(n == 5 && strcmp(out, "a b:c") == 0, "boundary: quoted, not first, case-insensitive name");
    tap_is_int(ta_multipart_boundary("multipart/form-data", out, sizeof out), -1, "boundary: none -> -1");
    tap_is_int(ta_multipart_boundary(NULL, out, sizeof out), -1, "boundary: NULL content type -> -1");
    tap_is_int(ta_multipart_boundary("multipart/form-data; boundary=\"\"", out, sizeof out), -1,
               "boundary: empty -> -1");
    char ct[200] = "multipart/form-data; boundary=";
    memset(ct + strlen(ct), 'b', 71);
    tap_is_int(ta_multipart_boundary(ct, out, sizeof out), -1, "boundary: 71 characters -> -1 (RFC 2046 max 70)");
    ct[strlen(ct) - 1] = 0;
    tap_is_int(ta_multipart_boundary(ct, out, sizeof out), 70, "boundary: 70 characters accepted");
    tap_is_int(ta_multipart_boundary("multipart/form-data; boundary=" B, out, 8), -1,
               "boundary: output buffer too small -> -1");
}

static const char form[] =
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello world\r\n"
    "--" B "\r\n"
    "content-disposition: form-data; name=\"empty\"\r\n"
    "\r\n"
    "\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line 1\r\nline 2\r\n\r\n--XyZ-7f3\r\n-- " B "\r\nmid--" B "-line\r\n\r\n\r\n"
    "\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"blob\"; filename=\"a\\\"b;c.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\x00\x01\r\n-\xff\r\n--" "XyZ-7f3\r\n"
    "--" B "--\r\n";

static const char upload_data[] =
    "line 1\r\nline 2\r\n\r\n--XyZ-7f3\r\n-- " B "\r\nmid--" B "-line\r\n\r\n\r\n";
static const char blob_data[] = "\x00\x01\r\n-\xff\r\n--" "XyZ-7f3";

static void test_parse_ok(void)
{
    ta_mp_part *p;
    size_t n;
    int rc = parse(form, sizeof form - 1, B, 0, &p, &n);
    tap_ok(rc == TA_MP_OK && n == 4, "four parts parsed (rc %d, n %zu)", rc, n);
    if (rc != TA_MP_OK || n != 4) { for (int i = 0; i < 6; i++) tap_ok(0, "skipped"); return; }
    /* Data pointers into the freed copy are only compared by length here;
     * parse again into a live copy to check bytes. */
    ta_multipart_free(p, n);
    char *body = heap_copy(form, sizeof form - 1);
    ta_multipart_parse(body, sizeof form - 1, B, 0, &p, &n);

    tap_ok(part_is(&p[0], "title", NULL, NULL, 11) && memcmp(p[0].data, "Hello world", 11) == 0,
           "plain field: name and value, no filename or type");
    tap_ok(part_is(&p[1], "empty", NULL, NULL, 0), "empty field value, lower-case header name");
    tap_ok(part_is(&p[2], "upload", "notes.txt", "text/plain", sizeof upload_data - 1),
           "file part: name, filename, content type");
    tap_ok(p[2].len == sizeof upload_data - 1 && memcmp(p[2].data, upload_data, p[2].len) == 0,
           "file data with CRLFs, blank lines and boundary look-alikes stays intact (%zu bytes)", p[2].len);
    tap_ok(part_is(&p[3], "blob", "a\"b;c.bin", "application/octet-stream", sizeof blob_data - 1),
           "quoted filename with escaped quote and semicolon");
    tap_ok(p[3].len == sizeof blob_data - 1 && memcmp(p[3].data, blob_data, p[3].len) == 0,
           "binary data with NULs and a boundary prefix stays intact");
    ta_multipart_free(p, n);
    free(body);
}

static void test_parse_variants(void)
{
    ta_mp_part *p;
    size_t n;
    static const char pre[] =
        "This is the preamble.\r\n"
        "--" B "  \t\r\n"   /* transport padding after the delimiter */
        "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "\r\n"
        "--" B "--\r\nepilogue, ignored\r\n--" B "\r\n";
    int rc = parse(pre, sizeof pre - 1, B, 0, &p, &n);
    tap_ok(rc == TA_MP_OK && n == 1, "preamble, transport padding and epilogue are ignored (rc %d)", rc);
    if (rc == TA_MP_OK && n == 1)
        tap_ok(p[0].filename && p[0].filename[0] == 0 && p[0].len == 0,
               "filename=\"\" (no file chosen) gives an empty, non-NULL filename");
    else
        tap_ok(0, "filename=\"\" (skipped)");
    if (rc == TA_MP_OK) ta_multipart_free(p, n);

    static const char none[] = "--" B "--\r\n";
    rc = parse(none, sizeof none - 1, B, 0, &p, &n);
    tap_ok(rc == TA_MP_OK && n == 0, "a body with only the closing delimiter has zero parts");
    if (rc == TA_MP_OK) ta_multipart_free(p, n);

    /* The closing delimiter need not be followed by CRLF. */
    static const char noeol[] =
        "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--" B "--";
    rc = parse(noeol, sizeof noeol - 1, B, 0, &p, &n);
    tap_ok(rc == TA_MP_OK && n == 1 && p[0].len == 1, "closing delimiter at the very end of the body");
    if (rc == TA_MP_OK) ta_multipart_free(p, n);

    /* max_parts. */
    rc = parse(form, sizeof form - 1, B, 3, &p, &n);
    tap_ok(rc == TA_MP_ETOOMANY && p == NULL && n == 0, "more parts than max_parts -> TA_MP_ETOOMANY");
    rc = parse(form, sizeof form - 1, B, 4, &p, &n);
    tap_ok(rc == TA_MP_OK && n == 4, "exactly max_parts parts is fine");
    if (rc == TA_MP_OK) ta_multipart_free(p, n);

    /* Many parts. */
    size_t cap = 1000 * 100 + 32, len = 0;
    char *big = malloc(cap);
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(big + len, cap - len,
                                "--" B "\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n%d\r\n", i, i * 7);
    len += (size_t)snprintf(big + len, cap - len, "--" B "--\r\n");
    rc = parse(big, len, B, 0, &p, &n);
    int good = rc == TA_MP_OK && n == 1000;
    if (good) {
        char *live = heap_copy(big, len);
        ta_multipart_free(p, n);
        ta_multipart_parse(live, len, B, 0, &p, &n);
        for (int i = 0; i < 1000 && good; i++) {
            char name[16], val[16];
            snprintf(name, sizeof name, "f%d", i);
            int vl = snprintf(val, sizeof val, "%d", i * 7);
            good = strcmp(p[i].name, name) == 0 && p[i].len == (size_t)vl && memcmp(p[i].data, val, (size_t)vl) == 0;
        }
        free(live);
    }
    tap_ok(good, "1000 parts, all names and values right");
    if (rc == TA_MP_OK) ta_multipart_free(p, n);
    free(big);
}

/* Cut a valid body at every length, as a short read would: before the
 * closing "--" it must be an error with nothing allocated; from there on it
 * is complete. Covers cuts inside every delimiter and header block. */
static void test_truncation(void)
{
    const size_t full = sizeof form - 1;
    /* memmem, not strstr: the body holds NUL bytes. */
    const char *close = memmem(form, full, "\r\n--" B "--", 4 + strlen(B) + 2);
    size_t complete = (size_t)(close - form) + 4 + strlen(B) + 2;
    int wrong = 0, first_bad = -1;
    for (size_t l = 0; l <= full; l++) {
        ta_mp_part *p = (ta_mp_part *)1;
        size_t n = 77;
        int rc = parse(form, l, B, 0, &p, &n);
        int ok = l < complete ? (rc < 0 && p == NULL && n == 0) : (rc == TA_MP_OK && n == 4);
        if (!ok && first_bad < 0) first_bad = (int)l;
        wrong += !ok;
        if (rc == TA_MP_OK) ta_multipart_free(p, n);
    }
    tap_ok(close && wrong == 0, "body cut at each of %zu lengths: error until the closing delimiter, then OK%s",
           full + 1, wrong ? " (see diag)" : "");
    if (wrong) tap_diag("%d wrong, first at length %d", wrong, first_bad);
    tap_diag("complete from length %zu of %zu", complete, full);

    /* The same body with a boundary one character longer or shorter. */
    ta_mp_part *p;
    size_t n;
    int rc1 = parse(form, full, B "7", 0, &p, &n);
    if (rc1 == TA_MP_OK) ta_multipart_free(p, n);
    int rc2 = parse(form, full, "XyZ-7f3", 0, &p, &n);
    if (rc2 == TA_MP_OK) ta_multipart_free(p, n);
    tap_ok(rc1 < 0 && rc2 < 0, "a boundary that only prefixes, or extends, the real one fails (%d, %d)",
           rc1, rc2);
}

static void test_malformed(void)
{
    static const struct { const char *desc, *body; int want; } cases[] = {
        { "no delimiter at all", "just some text\r\n", TA_MP_EMALFORMED },
        { "missing closing delimiter",
          "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n", TA_MP_EMALFORMED },
        { "part without headers",
          "--" B "\r\n\r\nvalue\r\n--" B "--\r\n", TA_MP_EMALFORMED },
        { "header line without a colon",
          "--" B "\r\nContent-Disposition form-data; name=\"a\"\r\n\r\nv\r\n--" B "--\r\n", TA_MP_EMALFORMED },
        { "part without a name",
          "--" B "\r\nContent-Disposition: form-data\r\n\r\nv\r\n--" B "--\r\n", TA_MP_EMALFORMED },
        { "headers never end",
          "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n--" B "--\r\n", TA_MP_EMALFORMED },
        { "garbage after a delimiter",
          "--" B "junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" B "--\r\n",
          TA_MP_EMALFORMED },
        { "second part malformed after a good one",
          "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" B "\r\nbad\r\n\r\nv\r\n--" B "--\r\n",
          TA_MP_EMALFORMED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ta_mp_part *p = (ta_mp_part *)1;
        size_t n = 5;
        int rc = parse(cases[i].body, strlen(cases[i].body), B, 0, &p, &n);
        tap_ok(rc == cases[i].want && p == NULL && n == 0, "malformed: %s -> %s (got %d)",
               cases[i].desc, ta_multipart_strerror(cases[i].want), rc);
        if (rc == TA_MP_OK) ta_multipart_free(p, n);
    }

    ta_mp_part *p;
    size_t n;
    tap_is_int(parse(form, sizeof form - 1, NULL, 0, &p, &n), TA_MP_EBOUNDARY, "NULL boundary -> TA_MP_EBOUNDARY");
    tap_is_int(parse(form, sizeof form - 1, "", 0, &p, &n), TA_MP_EBOUNDARY, "empty boundary -> TA_MP_EBOUNDARY");
    char longb[72];
    memset(longb, 'b', 71);
    longb[71] = 0;
    tap_is_int(parse(form, sizeof form - 1, longb, 0, &p, &n), TA_MP_EBOUNDARY,
               "71-character boundary -> TA_MP_EBOUNDARY");

    /* A 100 KB header line must be refused, not parsed. */
    size_t hl = 100 * 1024, cap = hl + 256, len = 0;
    char *body = malloc(cap);
    len += (size_t)sprintf(body, "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: ");
    memset(body + len, 'x', hl);
    len += hl;
    len += (size_t)sprintf(body + len, "\r\n\r\nv\r\n--" B "--\r\n");
    int rc = parse(body, len, B, 0, &p, &n);
    tap_ok(rc < 0 && rc != TA_MP_ENOMEM, "a 100 KB header line is rejected (%s)", ta_multipart_strerror(rc));
    if (rc == TA_MP_OK) ta_multipart_free(p, n);
    free(body);

    const int codes[] = { TA_MP_OK, TA_MP_EBOUNDARY, TA_MP_EMALFORMED, TA_MP_ENOMEM, TA_MP_ETOOMANY, -100 };
    int distinct = 1;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < i; j++)
            if (!ta_multipart_strerror(codes[i]) || strcmp(ta_multipart_strerror(codes[i]), ta_multipart_strerror(codes[j])) == 0)
                distinct = 0;
    tap_ok(distinct, "ta_multipart_strerror: a distinct message per code, unknown codes too");
    ta_multipart_free(NULL, 3);
    tap_ok(1, "ta_multipart_free(NULL) is harmless");
}

int main(void)
{
    tap_plan(8 + 7 + 7 + 2 + 14);   /* boundary, parse, variants, truncation, malformed */
    test_boundary();
    test_parse_ok();
    test_parse_variants();
    test_truncation();
    test_malformed();
    return tap_done();
}
