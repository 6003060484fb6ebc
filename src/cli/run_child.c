/* ahead run: the command as a child process (cli/run.h). Its stdin,
 * stdout and stderr are ours, untouched; every descriptor ahead opens is
 * close-on-exec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ahead/error.h"
#include "cli/run_cg.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_sig;
static int chld_pipe[2] = {-1, -1};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* A signal the kernel raised for the terminal (Ctrl-C: SI_KERNEL) went to
 * the whole foreground process group, the child included: forwarding it
 * would deliver it twice. One sent to ahead run by kill() is forwarded. */
static void on_term(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!got_sig)
		got_sig = sig;
	if (child_pid > 0 && (!si || si->si_code != SI_KERNEL))
		kill((pid_t)child_pid, sig);
}

static void on_chld(int sig)
{
	(void)sig;
	int e = errno;
	if (chld_pipe[1] >= 0 && write(chld_pipe[1], "c", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = e;
}

int run_signals_init(void)
{
	if (chld_pipe[0] < 0 && pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_term;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	struct sigaction sc;
	memset(&sc, 0, sizeof sc);
	sc.sa_handler = on_chld;
	sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, NULL);
	return chld_pipe[0];
}

int run_signals_got(void)
{
	return (int)got_sig;
}

/* What the child writes to its parent when it cannot exec. */
typedef struct {
	int err;
	int join; /* 1: joining the cgroup failed */
	char why[300];
} child_msg;

static void child_fail(int fd, int err, int join, const char *why)
{
	child_msg m;
	memset(&m, 0, sizeof m);
	m.err = err;
	m.join = join;
	snprintf(m.why, sizeof m.why, "%s", why ? why : "");
	ssize_t w = write(fd, &m, sizeof m);
	(void)w;
	_exit(join ? 126 : err == ENOENT ? 127 : 126);
}

int run_child_start(char **argv, run_cg *cg, run_child *out)
{
	memset(out, 0, sizeof *out);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return AH_EIO;
	/* Blocked across the fork: a signal now is handled after child_pid is
	 * set, so it reaches the child. */
	sigset_t all, old;
	sigemptyset(&all);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&all, forwarded[i]);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[0]);
		close(p[1]);
		snprintf(out->why, sizeof out->why, "fork: %s", strerror(e));
		out->exec_errno = e;
		return AH_EIO;
	}
	if (pid == 0) {
		close(p[0]);
		/* the command gets the dispositions and mask ahead run was given */
		for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
			signal(forwarded[i], SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (cg) {
			char err[512] = "";
			int rc = run_cg_join_self(cg, err, sizeof err);
			if (rc)
				child_fail(p[1], rc == AH_ENOENT ? ENOENT : EACCES, 1, err);
		}
		execvp(argv[0], argv);
		child_fail(p[1], errno, 0, NULL);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	child_msg m;
	ssize_t n;
	do
		n = read(p[0], &m, sizeof m);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	out->pid = pid;
	if (n == (ssize_t)sizeof m) {
		out->exec_errno = m.err ? m.err : EIO;
		out->join_failed = m.join != 0;
		snprintf(out->why, sizeof out->why, "%s", m.why[0] ? m.why : strerror(out->exec_errno));
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		child_pid = 0;
		return out->join_failed ? AH_EIO : AH_ENOENT;
	}
	return 0;
}

int run_child_wait(run_child *c, int sigfd, int timeout_ms, int *status, struct rusage *ru)
{
	for (;;) {
		int st;
		pid_t r = wait4(c->pid, &st, WNOHANG, ru);
		if (r == c->pid) {
			*status = st;
			child_pid = 0;
			return 1;
		}
		if (r < 0 && errno != EINTR) {
			/* not ours any more (cannot happen unless SIGCHLD is ignored) */
			*status = 0;
			memset(ru, 0, sizeof *ru);
			child_pid = 0;
			return 1;
		}
		if (timeout_ms == 0)
			return 0;
		struct pollfd pf = {.fd = sigfd, .events = POLLIN};
		int pr = poll(&pf, 1, timeout_ms);
		if (pr > 0) {
			char buf[64];
			while (read(sigfd, buf, sizeof buf) > 0)
				;
			continue; /* something ended: look again */
		}
		if (pr == 0) {
			/* the interval passed: one last look, then back to the caller */
			r = wait4(c->pid, &st, WNOHANG, ru);
			if (r == c->pid) {
				*status = st;
				child_pid = 0;
				return 1;
			}
			return 0;
		}
		if (errno != EINTR)
			return 0;
		/* a forwarded signal interrupted the wait: the interval goes on */
		if (timeout_ms > 0)
			timeout_ms = timeout_ms > 10 ? timeout_ms / 2 : 0;
	}
}
