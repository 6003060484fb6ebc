/* ahead: the one CSV line reader. Every CSV input (traces, series, shadow
 * exports, long-format imports, NAB result files) reads its lines here, so
 * they agree on what a line is:
 *   - at most a cap of bytes, line ending excluded (AH_CSV_LINE_MAX in
 *     limits.h unless the format says otherwise: series use
 *     AH_SERIES_MAX_LINE), read into the caller's fixed buffer;
 *   - LF or CRLF ends a line; the last line may lack one;
 *   - a NUL byte or a control character other than TAB anywhere (a CR not
 *     followed by LF included) is binary data and is refused;
 *   - errors are "FILE:LINE: reason" (ah_csvline_error).
 * Field splitting is a separate step (ah_csvline_split*), in place. */
#ifndef AHEAD_CSVLINE_H
#define AHEAD_CSVLINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	FILE *f;
	char *buf;        /* the caller's buffer */
	size_t cap;       /* its size: the longest line is cap - 1 bytes */
	uint64_t lineno;  /* lines read so far: the current line's number */
	int failed;       /* the error returned, once one is */
	char name[256];   /* file name for messages */
	char reason[128];
	char err[420];
} ah_csvline;

/* Reads from F (not closed here) into BUF of CAP bytes (at least 2);
 * NAME appears in errors. */
void ah_csvline_init(ah_csvline *r, FILE *f, const char *name, char *buf, size_t cap);

/* The next line, NUL-terminated without its ending: 1 = line (LINE and LEN
 * written), 0 = end of file, AH_ETOOBIG (longer than cap - 1), AH_EPARSE
 * (NUL or control byte), AH_EIO (read error). After an error the reader
 * keeps returning it. */
int ah_csvline_next(ah_csvline *r, char **line, size_t *len);

/* "FILE:LINE: reason" of the last error, or "no error". */
const char *ah_csvline_error(const ah_csvline *r);
/* The same without "FILE:LINE: ", for callers that place it themselves. */
const char *ah_csvline_reason(const ah_csvline *r);

/* Splits LINE in place on SEP into FIELDS (room for MAX + 1 pointers).
 * Returns the number of fields, or MAX + 1 when there are more than MAX
 * (the rest is left unsplit in FIELDS[MAX]). No quoting, no trimming. */
int ah_csvline_split(char *line, char sep, char **fields, int max);

/* RFC 4180-style split on ',': fields may be double-quoted ("" is a quote
 * inside), blanks around fields are trimmed. Stores at most MAX pointers
 * and returns the total field count, or AH_EPARSE for an unterminated
 * quote. */
int ah_csvline_split_quoted(char *line, char **fields, int max);
/* Strips blanks (spaces, tabs) around s, in place; returns the start. */
char *ah_csvline_trim(char *s);

#ifdef __cplusplus
}
#endif
#endif
