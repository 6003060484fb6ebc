/* Load for tests/cli_api_crash.sh: N keep-alive connections (threads with
 * plain blocking sockets) send POST /v1/allocations with unique
 * Idempotency-Keys, and release every 4th allocation they were granted,
 * until the time is up or the daemon goes away (it is killed with -9 under
 * this load). Every request is logged as sent BEFORE its bytes go out, and
 * every answer that fully arrived is logged after:
 *
 *   S alloc KEY            A alloc KEY STATUS ID
 *   S release KEY ID       A release KEY STATUS ID
 *
 * usage: api_load_main PORT TOKEN OUT_FILE KEY_PREFIX SECONDS CONNS
 * The checking (what the ledger holds after a restart) is the script's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY "{\"tenant\": \"a\", \"pool\": \"p\", \"resources\": {\"cpu\": 1}}"

static int port;
static const char *token, *prefix;
static double seconds;

typedef struct {
	int n;
	char *log;
	size_t len, cap;
} worker;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void logf_(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(worker *w, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (w->len + (size_t)n + 1 > w->cap) {
		size_t cap = (w->cap + (size_t)n + 1) * 2;
		char *p = realloc(w->log, cap);
		if (!p)
			return;
		w->log = p;
		w->cap = cap;
	}
	memcpy(w->log + w->len, line, (size_t)n);
	w->len += (size_t)n;
	w->log[w->len] = '\0';
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one answer: its status and the "id" of its body (0 if none). */
static int read_answer(int fd, int *status, unsigned long long *id)
{
	char buf[8192];
	size_t got = 0;
	char *end = NULL;
	buf[0] = '\0';
	while (!(end = strstr(buf, "\r\n\r\n"))) {
		if (got + 1 >= sizeof buf)
			return -1;
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = '\0';
	}
	if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
		return -1;
	char *cl = strcasestr(buf, "\r\nContent-Length:");
	if (!cl || cl > end)
		return -1;
	size_t want = strtoul(cl + 17, NULL, 10), have = got - (size_t)(end + 4 - buf);
	size_t head = (size_t)(end + 4 - buf);
	if (head + want + 1 > sizeof buf)
		return -1;
	while (have < want) {
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		have += (size_t)r;
		buf[got] = '\0';
	}
	*id = 0;
	char *p = strstr(end, "\"id\":");
	if (p)
		*id = strtoull(p + 5, NULL, 10);
	return 0;
}

static void *run(void *arg)
{
	worker *w = arg;
	int fd = dial();
	double end = now_s() + seconds;
	unsigned seq = 0, granted = 0;
	char req[1024];
	while (fd >= 0 && now_s() < end) {
		char key[96];
		snprintf(key, sizeof key, "%s-c%d-%u", prefix, w->n, seq++);
		int n = snprintf(req, sizeof req,
				 "POST /v1/allocations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
				 "Idempotency-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				 token, key, strlen(BODY), BODY);
		logf_(w, "S alloc %s\n", key);
		int status;
		unsigned long long id;
		if (send_all(fd, req, (size_t)n) < 0 || read_answer(fd, &status, &id) < 0)
			break;
		logf_(w, "A alloc %s %d %llu\n", key, status, id);
		if (status != 201 || !id || ++granted % 4)
			continue;
		snprintf(key, sizeof key, "%s-rel-%llu", prefix, id);
		n = snprintf(req, sizeof req,
			     "DELETE /v1/allocations/%llu HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			     "Idempotency-Key: %s\r\n\r\n",
			     id, token, key);
		logf_(w, "S release %s %llu\n", key, id);
		if (send_all(fd, req, (size_t)n) < 0 || read_answer(fd, &status, &id) < 0)
			break;
		logf_(w, "A release %s %d %llu\n", key, status, id);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: api_load_main PORT TOKEN OUT_FILE KEY_PREFIX SECONDS CONNS\n");
		return 2;
	}
	port = atoi(argv[1]);
	token = argv[2];
	prefix = argv[4];
	seconds = atof(argv[5]);
	int conns = atoi(argv[6]);
	if (port <= 0 || conns <= 0 || conns > 1024 || seconds <= 0) {
		fprintf(stderr, "api_load_main: bad arguments\n");
		return 2;
	}
	worker *ws = calloc((size_t)conns, sizeof *ws);
	pthread_t *ts = calloc((size_t)conns, sizeof *ts);
	if (!ws || !ts)
		return 1;
	for (int i = 0; i < conns; i++) {
		ws[i].n = i;
		if (pthread_create(&ts[i], NULL, run, &ws[i]) != 0) {
			fprintf(stderr, "api_load_main: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	FILE *f = fopen(argv[3], "w");
	int rc = f ? 0 : 1;
	for (int i = 0; i < conns; i++) {
		pthread_join(ts[i], NULL);
		if (f && ws[i].log)
			fputs(ws[i].log, f);
		free(ws[i].log);
	}
	if (f && fclose(f) != 0)
		rc = 1;
	free(ws);
	free(ts);
	return rc;
}
