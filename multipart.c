#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TA_MP_MAX_HEADER_LINE 8192

const char *ta_multipart_strerror(int rc)
{
    switch (rc) {
    case TA_MP_OK: return "ok";
    case TA_MP_EBOUNDARY: return "missing or invalid boundary";
    case TA_MP_EMALFORMED: return "malformed multipart body";
    case TA_MP_ENOMEM: return "out of memory";
    case TA_MP_ETOOMANY: return "too many parts";
    }
    return "unknown error";
}

/* Value of parameter `param` in a header value like
 * `form-data; name="a"; filename="b.txt"`. Quoted or token; malloc'd. */
static char *header_param(const char *v, size_t vlen, const char *param)
{
    size_t plen = strlen(param);
    const char *end = v + vlen, *p = v;
    while (p < end) {
        /* next ';' outside quotes */
        while (p < end && *p != ';') {
            if (*p == '"') { p++; while (p < end && *p != '"') { if (*p == '\\' && p + 1 < end) p++; p++; } }
            if (p < end) p++;
        }
        if (p >= end) break;
        p++;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if ((size_t)(end - p) > plen && strncasecmp(p, param, plen) == 0 && p[plen] == '=') {
            p += plen + 1;
            char *out = malloc((size_t)(end - p) + 1), *o = out;
            if (!out) return NULL;
            if (p < end && *p == '"') {
                p++;
                while (p < end && *p != '"') {
                    if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\')) p++;
                    *o++ = *p++;
                }
            } else {
                while (p < end && *p != ';' && *p != ' ' && *p != '\t') *o++ = *p++;
            }
            *o = 0;
            return out;
        }
    }
    return NULL;
}

int ta_multipart_boundary(const char *ct, char *out, size_t outsz)
{
    if (!ct) return -1;
    char *b = header_param(ct, strlen(ct), "boundary");
    if (!b) return -1;
    size_t n = strlen(b);
    /* RFC 2046: 1 to 70 characters */
    if (n == 0 || n > 70 || n + 1 > outsz) { free(b); return -1; }
    memcpy(out, b, n + 1);
    free(b);
    return (int) n;
}

static void part_free(ta_mp_part *p)
{
    free(p->name); free(p->filename); free(p->content_type);
}

void ta_multipart_free(ta_mp_part *parts, size_t n)
{
    if (!parts) return;
    for (size_t i = 0; i < n; i++) part_free(&parts[i]);
    free(parts);
}

static char *dup_trim(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* Parses the header block of one part, [p, hend). */
static int parse_part_headers(const char *p, const char *hend, ta_mp_part *part)
{
    while (p < hend) {
        const char *eol = memmem(p, (size_t)(hend - p), "\r\n", 2);
        if (!eol) eol = hend;
        if (eol - p > TA_MP_MAX_HEADER_LINE) return TA_MP_EMALFORMED;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon) return TA_MP_EMALFORMED;
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t vlen = (size_t)(eol - v);
        if (nlen == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
            char *disp = dup_trim(v, vlen);
            if (!disp) return TA_MP_ENOMEM;
            if (strncasecmp(disp, "form-data", 9) != 0) { free(disp); return TA_MP_EMALFORMED; }
            free(part->name);
            free(part->filename);
            part->name = header_param(disp, strlen(disp), "name");
            part->filename = header_param(disp, strlen(disp), "filename");
            free(disp);
        } else if (nlen == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
            free(part->content_type);
            part->content_type = dup_trim(v, vlen);
            if (!part->content_type) return TA_MP_ENOMEM;
        }
        p = eol + 2;
    }
    return part->name ? TA_MP_OK : TA_MP_EMALFORMED;
}

/* A new zeroed part at the end of the array, or NULL without memory. */
static ta_mp_part *grow(ta_mp_part **parts, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        ta_mp_part *np = realloc(*parts, ncap * sizeof *np);
        if (!np) return NULL;
        *parts = np;
        *cap = ncap;
    }
    ta_mp_part *part = &(*parts)[(*n)++];
    memset(part, 0, sizeof *part);
    return part;
}

int ta_multipart_parse(const char *body, size_t len, const char *boundary,
                       size_t max_parts, ta_mp_part **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > 70) return TA_MP_EBOUNDARY;

    char delim[80];                      /* "\r\n--" boundary */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;

    const char *end = body + len;
    /* The first delimiter may come without the leading CRLF. */
    const char *p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) p = body + dlen - 2;
    else {
        p = memmem(body, len, delim, dlen);
        if (!p) return TA_MP_EMALFORMED;
        p += dlen;
    }

    ta_mp_part *parts = NULL;
    size_t n = 0, cap = 0;
    int rc = TA_MP_OK;
    for (;;) {
        /* after a delimiter: "--" closes, else CRLF starts a part */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') { rc = TA_MP_EMALFORMED; break; }
        p += 2;
        /* every part needs at least Content-Disposition */
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') { rc = TA_MP_EMALFORMED; break; }
        const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend) { rc = TA_MP_EMALFORMED; break; }
        const char *dataptr = hend + 4;
        const char *next = memmem(dataptr, (size_t)(end - dataptr), delim, dlen);
        if (!next) { rc = TA_MP_EMALFORMED; break; }
        if (max_parts && n >= max_parts) { rc = TA_MP_ETOOMANY; break; }
        ta_mp_part *part = grow(&parts, &n, &cap);
        if (!part) { rc = TA_MP_ENOMEM; break; }
        rc = parse_part_headers(p, hend, part);
        if (rc != TA_MP_OK) break;
        part->data = dataptr;
        part->len = (size_t)(next - dataptr);
        p = next + dlen;
    }
    if (rc != TA_MP_OK) {
        ta_multipart_free(parts, n);
        return rc;
    }
    *out = parts;
    *n_out = n;
    return TA_MP_OK;
}
