/* ahead: scale hook runner (see include/ahead/hook.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/hook.h"

struct ah_hook_job {
	char **argv;
	ah_hook_opts o;
	ah_hook_state state;
	pid_t pid;
	int out_fd;
	int attempts;
	int64_t started_ns, next_ns, backoff_ns;
	int exit_status;
	bool timed_out;
	char cur[AH_HOOK_OUTPUT_MAX + 1];
	size_t cur_len;
	char last[AH_HOOK_OUTPUT_MAX + 1];
};

void ah_hook_opts_init(ah_hook_opts *o)
{
	o->timeout_ns = 60LL * 1000000000;
	o->max_attempts = 5;
	o->backoff_ns = 1000000000LL;
	o->backoff_factor = 2.0;
	o->backoff_max_ns = 300LL * 1000000000;
}

static int spawn(ah_hook_job *j, int64_t now)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return AH_EIO;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return AH_EIO;
	}
	if (pid == 0) {
		/* Child: own process group so a timeout kills its children too. */
		setpgid(0, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		execvp(j->argv[0], j->argv);
		static const char msg[] = "hook: cannot execute command\n";
		if (write(2, msg, sizeof msg - 1) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->pid = pid;
	j->out_fd = p[0];
	j->cur_len = 0;
	j->cur[0] = 0;
	j->started_ns = now;
	j->attempts++;
	j->timed_out = false;
	j->state = AH_HOOK_RUNNING;
	return 0;
}

static void drain(ah_hook_job *j)
{
	char buf[1024];
	for (;;) {
		ssize_t n = read(j->out_fd, buf, sizeof buf);
		if (n <= 0)
			return;
		size_t room = AH_HOOK_OUTPUT_MAX - j->cur_len;
		size_t take = (size_t)n < room ? (size_t)n : room; /* keep the head, drop the rest */
		memcpy(j->cur + j->cur_len, buf, take);
		j->cur_len += take;
		j->cur[j->cur_len] = 0;
	}
}

static void finish_attempt(ah_hook_job *j, int status, int64_t now)
{
	drain(j);
	close(j->out_fd);
	j->out_fd = -1;
	j->pid = 0;
	memcpy(j->last, j->cur, j->cur_len + 1);
	j->exit_status = WIFEXITED(status) && !j->timed_out ? WEXITSTATUS(status) : -1;
	if (j->exit_status == 0) {
		j->state = AH_HOOK_SUCCEEDED;
		return;
	}
	if (j->attempts >= j->o.max_attempts) {
		j->state = AH_HOOK_FAILED;
		return;
	}
	j->state = AH_HOOK_WAITING;
	j->next_ns = now + j->backoff_ns;
	double nb = (double)j->backoff_ns * j->o.backoff_factor;
	j->backoff_ns = nb > (double)j->o.backoff_max_ns ? j->o.backoff_max_ns : (int64_t)nb;
}

ah_hook_state ah_hook_job_poll(ah_hook_job *j, int64_t now_ns)
{
	if (!j)
		return AH_HOOK_FAILED;
	if (j->state == AH_HOOK_WAITING && now_ns >= j->next_ns) {
		if (spawn(j, now_ns) < 0) {
			j->exit_status = -1;
			finish_attempt(j, -1, now_ns);
		}
	}
	if (j->state != AH_HOOK_RUNNING)
		return j->state;
	drain(j);
	int status = 0;
	pid_t r = waitpid(j->pid, &status, WNOHANG);
	if (r == j->pid) {
		finish_attempt(j, status, now_ns);
	} else if (now_ns - j->started_ns >= j->o.timeout_ns) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		waitpid(j->pid, &status, 0);
		j->timed_out = true;
		finish_attempt(j, status, now_ns);
	}
	return j->state;
}

int ah_hook_job_new(char *const argv[], const ah_hook_opts *opts, int64_t now_ns, ah_hook_job **out)
{
	if (!argv || !argv[0] || !out)
		return AH_EINVAL;
	ah_hook_job *j = calloc(1, sizeof(*j));
	if (!j)
		return AH_ENOMEM;
	int n = 0;
	while (argv[n])
		n++;
	j->argv = calloc((size_t)n + 1, sizeof(char *));
	if (!j->argv)
		goto nomem;
	for (int i = 0; i < n; i++)
		if (!(j->argv[i] = strdup(argv[i])))
			goto nomem;
	if (opts)
		j->o = *opts;
	else
		ah_hook_opts_init(&j->o);
	if (j->o.max_attempts < 1)
		j->o.max_attempts = 1;
	j->backoff_ns = j->o.backoff_ns;
	j->out_fd = -1;
	int rc = spawn(j, now_ns);
	if (rc < 0) {
		ah_hook_job_free(j);
		return rc;
	}
	*out = j;
	return 0;
nomem:
	ah_hook_job_free(j);
	return AH_ENOMEM;
}

int ah_hook_job_attempts(const ah_hook_job *j)
{
	return j ? j->attempts : 0;
}

int ah_hook_job_exit_status(const ah_hook_job *j)
{
	return j ? j->exit_status : -1;
}

bool ah_hook_job_timed_out(const ah_hook_job *j)
{
	return j && j->timed_out;
}

const char *ah_hook_job_output(const ah_hook_job *j)
{
	return j ? j->last : "";
}

void ah_hook_job_free(ah_hook_job *j)
{
	if (!j)
		return;
	if (j->pid > 0) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->argv)
		for (int i = 0; j->argv[i]; i++)
			free(j->argv[i]);
	free(j->argv);
	free(j);
}
