/* The dashboard's files (web/), embedded at build time: CMakeLists.txt
 * writes web_files.c with every file of web/ as bytes, its flat name (the
 * last path segment: web/vendor/uplot/uPlot.min.css is "uPlot.min.css"),
 * its content type and an ETag (the SHA-1 of its bytes). */
#ifndef AHEAD_SERVER_WEB_H
#define AHEAD_SERVER_WEB_H

#include <stddef.h>

typedef struct {
	const char *name;            /* "index.html", "app.js", "uPlot.iife.min.js" */
	const char *content_type;    /* "text/javascript; charset=utf-8" */
	const char *etag;            /* "\"<sha1>\"" */
	const unsigned char *data;
	size_t len;
} ah_web_file;

extern const ah_web_file ah_web_files[];
extern const size_t ah_web_files_n;

#endif
