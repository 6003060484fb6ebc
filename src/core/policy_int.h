/* The policy loader's internals shared by its files (policy.c parses and
 * checks the file; policy_linux.c interprets the [linux] section). */
#ifndef AHEAD_CORE_POLICY_INT_H
#define AHEAD_CORE_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"

enum sec_kind { SEC_AHEAD, SEC_DIMENSION, SEC_POOL, SEC_CLASS, SEC_TENANT, SEC_SOURCE, SEC_LINUX };
#define N_SEC_KINDS 7

struct entry {
	char *key;
	char *value;
	int line;
};

struct section {
	char *header; /* trimmed text between '[' and ']' */
	int line;
	enum sec_kind kind;
	char name[AH_NAME_MAX];
	struct entry *e;
	int n, cap;
	bool overflow; /* more than MAX_KEYS keys; the rest were not stored */
};

struct loader {
	const char *file;
	const char *p, *end; /* unread input */
	int line;            /* line last handed to inih */
	struct section *sec;
	int nsec, capsec;
	int cur; /* section receiving entries, -1 before the first header, -2 after MAX_SECTIONS */
	bool sec_overflow;
	int rc;  /* first error, 0 if none */
	char *err;
	size_t errlen;
	ah_policy *P;
};

/* Records the first error as "FILE:LINE: [section] key: reason"; returns rc. */
int ah_pol_fail(struct loader *L, int rc, int line, const struct section *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int ah_pol_bool(struct loader *L, const struct section *s, const struct entry *e, bool *out);
int ah_pol_int(struct loader *L, const struct section *s, const struct entry *e, long lo, long hi, int *out);
int ah_pol_duration_range(struct loader *L, const struct section *s, const struct entry *e, int64_t lo,
			  int64_t hi, int64_t *out);
int ah_pol_unknown_key(struct loader *L, const struct section *s, const struct entry *e, const char *allowed);
/* [linux] (policy_linux.c) */
int ah_pol_linux(struct loader *L, struct section *s);
/* A class's enforce = on | dry-run (policy_linux.c). */
int ah_pol_class_enforce(struct loader *L, const struct section *s, const struct entry *e, int *out);

#endif
