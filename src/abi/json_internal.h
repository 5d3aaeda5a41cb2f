/*
 * Helpers shared by the JSON writer (json_write.c), reader (json_read.c)
 * and value equality (json.c). Not part of the public API.
 */
#ifndef HV_JSON_INTERNAL_H
#define HV_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hv_value.h"

/* Text longer than this is refused before parsing. */
#define HV_JSON_MAX_TEXT (16u << 20)

/*
 * Flags hv_json_parse adds to cJSON item types (cJSON keeps the type in the
 * low 8 bits and uses 256 and 512 itself):
 *   EXACT:  a number with 16+ digits or an exponent; valuestring holds its
 *           text, which is exact where valuedouble may not be.
 *   HASLEN: a string holding U+0000; valueint is its length in bytes.
 *   KEYNUL: an object member whose key held U+0000 (cJSON cut it there).
 */
#define HV_JSON_EXACT (1 << 12)
#define HV_JSON_HASLEN (1 << 13)
#define HV_JSON_KEYNUL (1 << 14)

/*
 * Strict RFC 8259 parse (see json_lex.c) of len bytes, not necessarily
 * NUL-terminated. On success *ret is a tree for cJSON_Delete. On failure
 * returns HV_EINVAL ("$: malformed JSON at line L, column C: ..." or the
 * size limit) or HV_ENOMEM, with the message in err.
 */
int hv_json_parse(const char *text, size_t len, cJSON **ret, char *err, size_t errlen);

/*
 * Decodes one UTF-8 sequence at s (n bytes available) into *cp. Returns its
 * length (1..4), or 0 when the bytes are not well-formed UTF-8: overlong
 * forms, surrogates (U+D800..U+DFFF) and values past U+10FFFF are refused,
 * exactly the sequences RFC 3629 forbids.
 */
size_t hv_json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encodes scalar value cp (not a surrogate, <= U+10FFFF) into out; returns 1..4. */
size_t hv_json_utf8_encode(uint32_t cp, char out[4]);

/*
 * Shortest text that strtod reads back as exactly d (finite), "%.Ng" style:
 * "0.1", "1e+100", "-0". Returns the length (< 32).
 */
size_t hv_json_fmt_f64(double d, char out[32]);

/* Shortest text that (float)strtod reads back as exactly f (finite). */
size_t hv_json_fmt_f32(float f, char out[32]);

/*
 * "record point", "list<u8>", "option<option<u32>>", "result<_, string>":
 * a type as error messages show it (hv_wit_type_str, plus the kind of a
 * named record/variant/enum/flags). Writes at most len bytes (NUL
 * included); returns out.
 */
char *hv_json_type_desc(const hv_wit_type_t *t, char *out, size_t len);

#endif
