/* ahead top: a terminal monitor of `ahead serve`, like htop for ahead.
 *
 * Every --interval it fetches pools, the queue and the last 24 h's notable
 * events over the API (top_data.c), lays them out as a frame (top_draw.c)
 * and draws it with plain ncurses (no mouse, resize via KEY_RESIZE, ASCII
 * bars and no colour when the terminal has neither UTF-8 nor colours), or
 * with --once/--batch prints the frame as text. While the screen is up,
 * stderr goes to a scratch file so that a failed call's message (printed
 * by the client) shows on the header line instead of over the screen. */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/top.h"

#define TOP_HELP                                                                                           \
	"usage: ahead top [--server URL] [--interval DURATION] [--once | --batch [-n N]] [--ascii]\n\n"    \
	"A terminal monitor of `ahead serve`, like htop: each pool's allocated resources\n"             \
	"against its capacity per dimension (bars, free, waiting), the queue, the number\n"              \
	"of allocations, and the last 24 h's scale, resize, preempt, expire, timeout and\n"              \
	"policy events, refreshed every --interval over the HTTP API (GET /v1/pools,\n"                  \
	"/v1/queue, /v1/events). Any token can watch; a tenant token sees its own.\n\n"                 \
	"Keys: q quit; p, a, e focus the pools, the queue (allocations) or the events\n"                 \
	"(the focused section gets the spare rows); up/down, PgUp/PgDn scroll it; s sorts\n"             \
	"the pools by peak use or by name; space refreshes now.\n\n"                                     \
	"  -i, --interval D     time between refreshes (default 2s; at least 100ms)\n"                   \
	"      --once           print one frame as plain text to stdout and exit (-b -n 1)\n"            \
	"  -b, --batch          print frames as plain text, one every interval, no screen\n"             \
	"  -n, --iterations N   stop after N frames\n"                                                   \
	"      --ascii          ASCII bars even on a UTF-8 terminal\n" AH_CLIENT_USAGE                   \
	"\nPlain frames are as wide as the terminal, else $COLUMNS, else 120 columns.\n"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Bytes of s that fit in cols characters (UTF-8; each one a column). */
static size_t fit(const char *s, int cols)
{
	size_t i = 0;
	int c = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (c == cols)
				break;
			c++;
		}
		i++;
	}
	return i;
}

static int plain_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	long w = c ? strtol(c, NULL, 10) : 0;
	return w >= 40 && w <= 1000 ? (int)w : 120;
}

static void print_frame(const ah_top_frame *f, int width)
{
	for (int i = 0; i < f->n; i++) {
		int left = width;
		for (int j = 0; j < f->lines[i].n && left > 0; j++) {
			const char *t = f->lines[i].text[j];
			size_t b = fit(t, left);
			fwrite(t, 1, b, stdout);
			for (size_t k = 0; k < b; k++)
				left -= ((unsigned char)t[k] & 0xC0) != 0x80;
		}
		fputc('\n', stdout);
	}
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
	while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int batch(ah_top_state *s, ah_top_view *v, int64_t frames)
{
	v->width = plain_width();
	for (int64_t k = 0; !frames || k < frames; k++) {
		if (k)
			sleep_ns(v->interval_ns);
		if (stop_signal)
			break;
		v->now_ns = ah_cli_now_ns();
		int ex = ah_top_refresh(s, v->now_ns);
		if (ex)
			return ex;
		ah_top_frame f = {0};
		if (ah_top_render(s, v, &f) < 0) {
			ah_top_frame_fini(&f);
			ah_cli_err("top", "out of memory");
			return AH_EXIT_INTERNAL;
		}
		if (k)
			fputc('\n', stdout);
		print_frame(&f, v->width);
		ah_top_frame_fini(&f);
		fflush(stdout);
	}
	return stop_signal > 0 ? 128 + (int)stop_signal : AH_EXIT_OK;
}

/* ---- the screen ---- */

static attr_t attrs[AH_TOP__NATTR];

static void setup_attrs(void)
{
	attrs[AH_TOP_HEADER] = A_BOLD;
	attrs[AH_TOP_TITLE] = A_BOLD;
	attrs[AH_TOP_DIM] = A_DIM;
	attrs[AH_TOP_WARN] = A_BOLD;
	attrs[AH_TOP_CRIT] = A_BOLD | A_UNDERLINE;
	attrs[AH_TOP_ERROR] = A_BOLD | A_UNDERLINE;
	if (!has_colors() || start_color() == ERR)
		return;
	use_default_colors();
	init_pair(1, COLOR_GREEN, -1);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_RED, -1);
	init_pair(4, COLOR_CYAN, -1);
	attrs[AH_TOP_OK] = COLOR_PAIR(1);
	attrs[AH_TOP_WARN] = COLOR_PAIR(2) | A_BOLD;
	attrs[AH_TOP_CRIT] = COLOR_PAIR(3) | A_BOLD;
	attrs[AH_TOP_ERROR] = COLOR_PAIR(3) | A_BOLD;
	attrs[AH_TOP_TITLE] = COLOR_PAIR(4) | A_BOLD;
}

static void draw(const ah_top_frame *f)
{
	erase();
	for (int i = 0; i < f->n && i < LINES; i++) {
		int left = COLS;
		move(i, 0);
		for (int j = 0; j < f->lines[i].n && left > 0; j++) {
			const char *t = f->lines[i].text[j];
			size_t b = fit(t, left);
			attrset(attrs[f->lines[i].attr[j]]);
			addnstr(t, (int)b);
			for (size_t k = 0; k < b; k++)
				left -= ((unsigned char)t[k] & 0xC0) != 0x80;
		}
	}
	attrset(A_NORMAL);
	refresh();
}

/* The last line the client printed on the captured stderr, then empties it. */
static void take_error(FILE *cap, char *buf, size_t len)
{
	fflush(stderr);
	char line[512];
	buf[0] = '\0';
	rewind(cap);
	while (fgets(line, sizeof line, cap)) {
		line[strcspn(line, "\n")] = '\0';
		const char *m = strncmp(line, "ahead top: ", 11) ? line : line + 11;
		if (*m)
			snprintf(buf, len, "%.255s", m);
	}
	if (!buf[0])
		snprintf(buf, len, "no answer");
	if (ftruncate(fileno(cap), 0) < 0)
		clearerr(cap); /* the next message is appended: still the last line */
	rewind(cap);
}

static int screen(ah_top_state *s, ah_top_view *v, int64_t frames)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ah_cli_err("top", "not a terminal: use --once or --batch for plain text");
		return AH_EXIT_USAGE;
	}
	const char *cs = nl_langinfo(CODESET);
	if (!cs || strcmp(cs, "UTF-8"))
		v->utf8 = false;
	/* the first refresh before the screen: a bad token or URL ends here, plainly */
	v->now_ns = ah_cli_now_ns();
	int ex = ah_top_refresh(s, v->now_ns);
	if (ex)
		return ex;
	FILE *cap = tmpfile();
	int saved = cap ? dup(STDERR_FILENO) : -1;
	if (saved < 0 || fflush(stderr) || dup2(fileno(cap), STDERR_FILENO) < 0) {
		ah_cli_err("top", "cannot capture stderr: %s", strerror(errno));
		if (saved >= 0)
			close(saved);
		if (cap)
			fclose(cap);
		return AH_EXIT_INTERNAL;
	}
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		dup2(saved, STDERR_FILENO);
		close(saved);
		fclose(cap);
		ah_cli_err("top", "cannot use the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		return AH_EXIT_USAGE;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	setup_attrs();
	v->keys = true;
	int64_t shown = 1, next = v->now_ns + v->interval_ns;
	bool dirty = true;
	while (!stop_signal) {
		if (dirty) {
			v->width = COLS;
			v->height = LINES;
			ah_top_frame f = {0};
			if (ah_top_render(s, v, &f) == 0)
				draw(&f);
			ah_top_frame_fini(&f);
			dirty = false;
		}
		if (frames && shown >= frames)
			break;
		int64_t now = ah_cli_now_ns(), wait_ms = (next - now) / 1000000;
		timeout(wait_ms < 0 ? 0 : wait_ms > 250 ? 250 : (int)wait_ms);
		int ch = getch();
		bool refresh_now = false;
		switch (ch) {
		case 'q':
		case 'Q':
			stop_signal = -1;
			break;
		case 'p':
		case 'P':
		case 'a':
		case 'A':
		case 'e':
		case 'E': {
			int c = ch | 0x20;
			ah_top_focus f = c == 'p' ? AH_TOP_FOCUS_POOLS : c == 'a' ? AH_TOP_FOCUS_QUEUE : AH_TOP_FOCUS_EVENTS;
			if (f != v->focus)
				v->scroll = 0;
			v->focus = f;
			dirty = true;
			break;
		}
		case 's':
		case 'S':
			v->sort_used = !v->sort_used;
			dirty = true;
			break;
		case KEY_UP:
		case 'k':
			v->scroll = v->scroll > 0 ? v->scroll - 1 : 0;
			dirty = true;
			break;
		case KEY_DOWN:
		case 'j':
			v->scroll++;
			dirty = true;
			break;
		case KEY_PPAGE:
			v->scroll = v->scroll > LINES / 2 ? v->scroll - LINES / 2 : 0;
			dirty = true;
			break;
		case KEY_NPAGE:
			v->scroll += LINES / 2;
			dirty = true;
			break;
		case KEY_RESIZE:
		case 12: /* ^L */
			clearok(curscr, TRUE);
			dirty = true;
			break;
		case ' ':
			refresh_now = true;
			break;
		default:
			break;
		}
		if (stop_signal)
			break;
		now = ah_cli_now_ns();
		if (refresh_now || now >= next) {
			v->now_ns = now;
			if (ah_top_refresh(s, now))
				take_error(cap, s->error, sizeof s->error);
			next = ah_cli_now_ns() + v->interval_ns;
			shown++;
			dirty = true;
		}
	}
	endwin();
	delscreen(scr);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(cap);
	return stop_signal > 0 ? 128 + (int)stop_signal : AH_EXIT_OK;
}

int ah_cmd_top(int argc, char **argv)
{
	ah_client_opts co = {0};
	int64_t interval_ns = 2000000000LL, frames = 0;
	bool once = false, batch_mode = false, ascii = false;
	const ah_cli_opt opts[] = {
		AH_OPT("interval", 'i', AH_OPT_DURATION, &interval_ns, .hint = "DURATION", .lo = 100000000LL,
		       .hi = 3600LL * 1000000000LL),
		AH_OPT("once", 0, AH_OPT_FLAG, &once),
		AH_OPT("batch", 'b', AH_OPT_FLAG, &batch_mode),
		AH_OPT("iterations", 'n', AH_OPT_INT, &frames, .hint = "N", .lo = 1, .hi = 1000000000),
		AH_OPT("ascii", 0, AH_OPT_FLAG, &ascii),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "top", .help = TOP_HELP, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int r = ah_cli_parse(&spec, argc, argv);
	if (r != AH_CLI_GO)
		return r;
	if (once && frames > 1) {
		ah_cli_err("top", "--once is one frame: give --batch -n N for more");
		return AH_EXIT_USAGE;
	}
	int cx;
	if (!ah_client_wanted("top", &co, NULL, &cx)) {
		if (!cx)
			ah_cli_err("top", "watches a daemon: give --server URL (or set $AHEAD_SERVER)");
		return cx ? cx : AH_EXIT_USAGE;
	}
	ah_client *cl = NULL;
	int ex = ah_client_open("top", &co, &cl);
	if (ex)
		return ex;
	setlocale(LC_ALL, "");
	ah_top_state s;
	ah_top_init(&s, cl, co.server ? co.server : getenv("AHEAD_SERVER"));
	ah_top_view v = {.interval_ns = interval_ns, .utf8 = !ascii};
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (once || batch_mode) {
		v.utf8 = false; /* plain text: for pipes, files and grep */
		ex = batch(&s, &v, once ? 1 : frames);
	} else {
		ex = screen(&s, &v, frames);
	}
	ah_top_fini(&s);
	return ex;
}
