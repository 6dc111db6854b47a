/* multipart/form-data (RFC 7578) over a body already in memory. Parts point
 * into the body; nothing is copied but the header values. */
#ifndef TA_MULTIPART_H
#define TA_MULTIPART_H

#include <stddef.h>

typedef struct ta_mp_part {
    char *name;            /* form field name (malloc'd) */
    char *filename;        /* NULL unless a file part (malloc'd, may be "") */
    char *content_type;    /* NULL if absent (malloc'd) */
    const char *data;      /* into the body */
    size_t len;
} ta_mp_part;

enum { TA_MP_OK = 0, TA_MP_EBOUNDARY = -1, TA_MP_EMALFORMED = -2, TA_MP_ENOMEM = -3,
       TA_MP_ETOOMANY = -4 };

/* Copies the boundary parameter of a Content-Type value into out.
 * Returns its length, or -1 if there is none or it doesn't fit. */
int ta_multipart_boundary(const char *content_type, char *out, size_t outsz);

/* Parses body into *parts (malloc'd array of *n_parts). At most max_parts
 * parts (0: no limit). Returns TA_MP_OK or a negative TA_MP_E* code; on error
 * nothing is left allocated. */
int ta_multipart_parse(const char *body, size_t len, const char *boundary,
                       size_t max_parts, ta_mp_part **parts, size_t *n_parts);
void ta_multipart_free(ta_mp_part *parts, size_t n);
const char *ta_multipart_strerror(int rc);

#endif
