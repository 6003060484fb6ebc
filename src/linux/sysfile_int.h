/* ahead: private helpers of the kernel-file readers (src/linux): a line
 * walker and a tokenizer over a NUL-terminated buffer, and error text. */
#ifndef AHEAD_LINUX_SYSFILE_INT_H
#define AHEAD_LINUX_SYSFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/sysfile.h"

typedef struct {
	const char *p, *end;
	int lineno;
} ah_lines;

typedef struct {
	const char *s;
	size_t n;
} ah_tok;

#define AH_TOKS_MAX 24

static inline void ah_lines_init(ah_lines *l, const char *text, size_t len)
{
	l->p = text;
	l->end = text + len;
	l->lineno = 0;
}

/* The next line (without '\n'); false at the end. */
bool ah_lines_next(ah_lines *l, const char **s, size_t *n);
/* Splits a line on blanks into at most max tokens; returns the count, or
 * max + 1 when there are more. */
int ah_tokens(const char *s, size_t n, ah_tok *t, int max);
bool ah_tok_eq(const ah_tok *t, const char *lit);
/* "max" -> AH_FIELD_MAX, a number -> AH_FIELD_OK; else AH_EINVAL/AH_ERANGE. */
int ah_tok_value(const ah_tok *t, bool allow_max, ah_field *f);
/* err = "NAME:LINE: what" (line 0: "NAME: what"). Returns code. */
int ah_sys_err(char *err, size_t errlen, int code, const char *name, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Joins root, rel (may be NULL or empty) and file into buf (AH_SYSPATH_MAX);
 * AH_ETOOBIG when it does not fit. */
int ah_sys_path(char *buf, const char *root, const char *rel, const char *file);

#endif
