/* sbx-helper: a tiny static program the sandbox tests run inside sandboxes.
 *
 * Built with `cc -static` by tests/common/mod.rs (no libraries needed at run
 * time: the sandbox holds only declared files). One subcommand per run:
 *
 *   true                      exit 0
 *   exit N                    exit N
 *   segv                      die of SIGSEGV (a real fault: pid 1 of a pid
 *                             namespace ignores signals it sends itself)
 *   sleep SECS                sleep (fractional seconds)
 *   echo STR / echoerr STR    write STR and a newline to stdout / stderr
 *   spew N                    write N bytes 'x' to stdout and to stderr
 *   env                       print the environment, one variable a line
 *   cwd                       print the working directory
 *   id                        print "uid=U gid=G euid=E egid=G groups=N"
 *   hostname                  print the nodename
 *   read PATH                 copy PATH to stdout
 *   write PATH DATA           create/truncate PATH and write DATA
 *   append PATH DATA          append DATA to PATH
 *   unlink PATH | rmdir PATH | mkdir PATH | truncate PATH | chmod PATH
 *   rename FROM TO
 *   ls PATH                   print the entries of a directory, sorted by readdir order
 *   tree-sleep FILE SECS      fork a child that, after SECS, creates FILE;
 *                             the parent sleeps forever (timeout tests)
 *   daemon FILE SECS          double-fork + setsid a grandchild that, after
 *                             SECS, creates FILE; the parent exits 0 at once
 *   mount                     try mount(2) of a tmpfs on /tmp
 *   unshare                   try unshare(CLONE_NEWUSER)
 *   connect PORT              try a TCP connect to 127.0.0.1:PORT
 *   fork N                    try to create N processes that wait; prints how many worked
 *   fsize N PATH              write N bytes to PATH (RLIMIT_FSIZE tests)
 *   alloc MIB                 map and touch MIB MiB, one at a time (memory limit tests)
 *   cgroup                    print this process's cgroup v2 path ("none" without one)
 *
 * Failures of a file operation print "errno=NAME" (e.g. errno=EROFS) on
 * stderr and exit 1; success prints "ok" on stdout (except read/ls/...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EAGAIN: return "EAGAIN";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    default: return "E?";
    }
}

static int fail(void) {
    int e = errno;
    fprintf(stderr, "errno=%s (%d)\n", errname(e), e);
    return 1;
}

static int ok(int r) {
    if (r < 0) return fail();
    puts("ok");
    return 0;
}

static void sleep_secs(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int write_file(const char *path, const char *data, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd < 0) return fail();
    size_t n = strlen(data);
    if (write(fd, data, n) != (ssize_t)n) return fail();
    if (close(fd) < 0) return fail();
    puts("ok");
    return 0;
}

static void touch_later(const char *file, double secs) {
    sleep_secs(secs);
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sbx-helper CMD ARGS...\n"); return 2; }
    const char *cmd = argv[1];
    const char *a = argc > 2 ? argv[2] : "";
    const char *b = argc > 3 ? argv[3] : "";
    if (!strcmp(cmd, "true")) return 0;
    if (!strcmp(cmd, "exit")) return atoi(a);
    if (!strcmp(cmd, "segv")) { *(volatile int *)0 = 1; return 0; }
    if (!strcmp(cmd, "sleep")) { sleep_secs(atof(a)); return 0; }
    if (!strcmp(cmd, "echo")) { printf("%s\n", a); return 0; }
    if (!strcmp(cmd, "echoerr")) { fprintf(stderr, "%s\n", a); return 0; }
    if (!strcmp(cmd, "spew")) {
        long n = atol(a);
        static char buf[65536];
        memset(buf, 'x', sizeof buf);
        for (int fd = 1; fd <= 2; fd++) {
            long left = n;
            while (left > 0) {
                ssize_t w = write(fd, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
                if (w <= 0) return fail();
                left -= w;
            }
        }
        return 0;
    }
    if (!strcmp(cmd, "env")) { for (char **e = environ; *e; e++) puts(*e); return 0; }
    if (!strcmp(cmd, "cwd")) { char buf[4096]; if (!getcwd(buf, sizeof buf)) return fail(); puts(buf); return 0; }
    if (!strcmp(cmd, "id")) {
        printf("uid=%d gid=%d euid=%d egid=%d groups=%d\n", getuid(), getgid(), geteuid(), getegid(), getgroups(0, NULL));
        return 0;
    }
    if (!strcmp(cmd, "umask")) { mode_t m = umask(0); printf("%03o\n", (unsigned)m); return 0; }
    if (!strcmp(cmd, "hostname")) { struct utsname u; uname(&u); puts(u.nodename); return 0; }
    if (!strcmp(cmd, "read")) {
        int fd = open(a, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail();
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
        if (n < 0) return fail();
        return 0;
    }
    if (!strcmp(cmd, "write")) return write_file(a, b, O_TRUNC);
    if (!strcmp(cmd, "append")) return write_file(a, b, O_APPEND);
    if (!strcmp(cmd, "unlink")) return ok(unlink(a));
    if (!strcmp(cmd, "rmdir")) return ok(rmdir(a));
    if (!strcmp(cmd, "mkdir")) return ok(mkdir(a, 0755));
    if (!strcmp(cmd, "truncate")) return ok(truncate(a, 0));
    if (!strcmp(cmd, "chmod")) return ok(chmod(a, 0777));
    if (!strcmp(cmd, "rename")) return ok(rename(a, b));
    if (!strcmp(cmd, "ls")) {
        DIR *d = opendir(a);
        if (!d) return fail();
        struct dirent *e;
        while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) puts(e->d_name);
        closedir(d);
        return 0;
    }
    if (!strcmp(cmd, "tree-sleep")) {
        pid_t p = fork();
        if (p < 0) return fail();
        if (p == 0) { touch_later(a, atof(b)); _exit(0); }
        for (;;) pause();
    }
    if (!strcmp(cmd, "daemon")) {
        pid_t p = fork();
        if (p < 0) return fail();
        if (p == 0) {
            setsid();
            if (fork() == 0) {
                for (int fd = 0; fd < 3; fd++) close(fd);
                touch_later(a, atof(b));
                _exit(0);
            }
            _exit(0);
        }
        waitpid(p, NULL, 0);
        puts("ok");
        return 0;
    }
    if (!strcmp(cmd, "alloc")) {
        /* Touch A MiB, one MiB at a time: "ok", or the error of the mmap that failed. */
        long mib = atol(a);
        for (long i = 0; i < mib; i++) {
            char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) return fail();
            memset(m, 1, 1 << 20);
        }
        puts("ok");
        return 0;
    }
    if (!strcmp(cmd, "cgroup")) {
        /* The cgroup v2 line of /proc/self/cgroup, without its "0::". */
        char buf[4096];
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail();
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0) return fail();
        buf[n] = 0;
        char *l = strstr(buf, "0::");
        if (!l) { puts("none"); return 0; }
        l[strcspn(l, "\n")] = 0;
        puts(l + 3);
        return 0;
    }
    if (!strcmp(cmd, "mount")) return ok(mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(cmd, "unshare")) return ok(unshare(CLONE_NEWUSER));
    if (!strcmp(cmd, "connect")) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) return fail();
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(a)), .sin_addr.s_addr = htonl(0x7f000001)};
        return ok(connect(s, (struct sockaddr *)&sa, sizeof sa));
    }
    if (!strcmp(cmd, "fork")) {
        int n = atoi(a), made = 0;
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p < 0) break;
            if (p == 0) { pause(); _exit(0); }
            made++;
        }
        printf("%d\n", made);
        fflush(stdout);
        return 0; /* pid 1 exits: the kernel kills the rest */
    }
    if (!strcmp(cmd, "fsize")) {
        long n = atol(a);
        signal(SIGXFSZ, SIG_IGN);
        int fd = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return fail();
        static char buf[4096];
        while (n > 0) {
            ssize_t w = write(fd, buf, n < (long)sizeof buf ? n : (long)sizeof buf);
            if (w < 0) return fail();
            n -= w;
        }
        puts("ok");
        return 0;
    }
    fprintf(stderr, "sbx-helper: unknown command %s\n", cmd);
    return 2;
}
