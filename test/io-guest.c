#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <poll.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <signal.h>

#define TOTAL (1 << 20)
static int pfd[2];
static unsigned char *src;
static void *writer(void *a) {
  /* One write of 1 MiB into a 64 KiB pipe: it blocks until the reader made room, many times. */
  ssize_t n = write(pfd[1], src, TOTAL);
  close(pfd[1]);
  return (void *)n;
}
/* 1 MiB through a pipe between two threads; returns the bytes received if they are exact, else a negative code. */
long pipe_transfer(void) {
  if (pipe(pfd)) return -1;
  src = malloc(TOTAL);
  unsigned char *dst = malloc(TOTAL + 8192);
  for (int i = 0; i < TOTAL; i++) src[i] = (unsigned char)(i * 7 + (i >> 10));
  pthread_t t;
  pthread_create(&t, 0, writer, 0);
  long off = 0;
  for (;;) {
    ssize_t n = read(pfd[0], dst + off, 3000);
    if (n < 0) return -2;
    if (n == 0) break;
    off += n;
    if (off > TOTAL) return -3;
  }
  void *written;
  pthread_join(t, &written);
  close(pfd[0]);
  if ((long)written != TOTAL) return -4;
  if (memcmp(src, dst, TOTAL) != 0) return -5;
  free(src); free(dst);
  return off;
}

void pipe_semantics(int *r) {
  int p[2], q[2];
  char buf[16];
  pipe2(p, O_NONBLOCK | O_CLOEXEC);
  r[0] = read(p[0], buf, 16) < 0 ? errno : 0;
  r[1] = (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0;
  r[2] = write(p[1], "hello", 5);
  int avail = -1; ioctl(p[0], FIONREAD, &avail); r[3] = avail;
  close(p[1]);
  r[4] = read(p[0], buf, 16);
  r[5] = read(p[0], buf, 16);
  close(p[0]);
  pipe(q);
  struct stat st; fstat(q[0], &st); r[6] = S_ISFIFO(st.st_mode);
  close(q[0]);
  signal(SIGPIPE, SIG_IGN); /* else the write below ends the process, as on Linux */
  r[7] = write(q[1], "x", 1) < 0 ? errno : 0;
  signal(SIGPIPE, SIG_DFL);
  close(q[1]);
  pipe(q);
  int w2 = dup(q[1]);
  close(q[1]);
  r[8] = write(w2, "y", 1);
  close(w2);
  r[9] = read(q[0], buf, 16);
  r[10] = read(q[0], buf, 16);
  close(q[0]);
  pipe(q);
  fcntl(q[0], F_SETFL, fcntl(q[0], F_GETFL) | O_NONBLOCK);
  r[11] = read(q[0], buf, 16) < 0 ? errno : 0;
  close(q[0]); close(q[1]);
}

static volatile int sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }
/* A write to a pipe nobody reads, with a SIGPIPE handler: the handler runs once, then write fails with EPIPE. */
int sigpipe_handled(int *err) {
  int q[2];
  pipe(q);
  close(q[0]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &sa, 0);
  sigpipes = 0;
  int n = write(q[1], "x", 1);
  *err = errno;
  signal(SIGPIPE, SIG_DFL);
  close(q[1]);
  return n < 0 ? sigpipes : -1;
}
/* The same without a handler: SIGPIPE's default action ends the process. */
int sigpipe_default(void) {
  int q[2];
  pipe(q);
  close(q[0]);
  write(q[1], "x", 1);
  return 0;
}

static int restart_pipe[2];
static volatile int usr1_handled;
static void on_usr1(int s) { (void)s; usr1_handled++; }
struct blocked_reader { int n; int err; char buf[8]; };
static void *blocked_reader(void *a) {
  struct blocked_reader *r = a;
  r->n = read(restart_pipe[0], r->buf, sizeof r->buf);
  r->err = r->n < 0 ? errno : 0;
  return 0;
}
/* A thread blocked in read() on a pipe gets SIGUSR1, handled with or without SA_RESTART; then data arrives.
   r[0]: read's result (3 when the call ran again, -1 otherwise), r[1]: its errno, r[2]: handler runs. */
void restart_read(int sa_restart, int *r) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = sa_restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, 0);
  usr1_handled = 0;
  pipe(restart_pipe);
  struct blocked_reader rd;
  memset(&rd, 0, sizeof rd);
  pthread_t t;
  pthread_create(&t, 0, blocked_reader, &rd);
  usleep(2000);                /* the reader blocks in read() */
  pthread_kill(t, SIGUSR1);
  usleep(2000);                /* its handler runs; the read runs again or fails */
  write(restart_pipe[1], "abc", 3);
  pthread_join(t, 0);
  close(restart_pipe[0]);
  close(restart_pipe[1]);
  signal(SIGUSR1, SIG_DFL);
  r[0] = rd.n; r[1] = rd.err; r[2] = usr1_handled;
}

static long long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static int ep_pipe[2];
static void *late_writer(void *a) { usleep(1000); write(ep_pipe[1], "ping", 4); return 0; }

void epoll_semantics(long long *r) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  pipe(ep_pipe);
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ULL }, out[4];
  epoll_ctl(ep, EPOLL_CTL_ADD, ep_pipe[0], &ev);
  r[0] = epoll_ctl(ep, EPOLL_CTL_ADD, ep_pipe[0], &ev) < 0 ? errno : 0;
  pthread_t t;
  pthread_create(&t, 0, late_writer, 0);
  r[1] = epoll_wait(ep, out, 4, -1);          /* blocks until the other thread writes */
  r[2] = out[0].events;
  r[3] = out[0].data.u64;
  pthread_join(t, 0);
  r[4] = epoll_wait(ep, out, 4, 0);           /* level-triggered: still readable */
  ev.events = EPOLLIN | EPOLLET;
  epoll_ctl(ep, EPOLL_CTL_MOD, ep_pipe[0], &ev);
  r[5] = epoll_wait(ep, out, 4, 0);           /* edge-triggered: once */
  r[6] = epoll_wait(ep, out, 4, 0);
  write(ep_pipe[1], "!", 1);
  r[7] = epoll_wait(ep, out, 4, 0);           /* a new write is a new edge */
  char buf[16];
  read(ep_pipe[0], buf, 16);
  long long before = now_ns();
  r[8] = epoll_wait(ep, out, 4, 50);          /* nothing: times out after 50 ms of virtual time */
  r[9] = now_ns() - before;
  epoll_ctl(ep, EPOLL_CTL_DEL, ep_pipe[0], 0);
  r[10] = epoll_ctl(ep, EPOLL_CTL_DEL, ep_pipe[0], 0) < 0 ? errno : 0;
  /* eventfd: counter semantics */
  int efd = eventfd(3, EFD_NONBLOCK);
  uint64_t v = 4;
  write(efd, &v, 8);
  v = 0; read(efd, &v, 8); r[11] = v;
  r[12] = read(efd, &v, 8) < 0 ? errno : 0;
  int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  read(sem, &v, 8); r[13] = v;
  read(sem, &v, 8); r[14] = v;
  r[15] = read(sem, &v, 8) < 0 ? errno : 0;
  ev.events = EPOLLIN; ev.data.u64 = 7;
  epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
  r[16] = epoll_wait(ep, out, 4, 0);
  v = 1; write(efd, &v, 8);
  r[17] = epoll_wait(ep, out, 4, 0);
  r[18] = out[0].data.u64;
  int tmp = open("/tmp/regular", O_CREAT | O_RDWR, 0600);
  r[19] = epoll_ctl(ep, EPOLL_CTL_ADD, tmp, &ev) < 0 ? errno : 0;
  /* poll on a pipe: times out, then sees POLLIN */
  struct pollfd pf = { .fd = ep_pipe[0], .events = POLLIN };
  r[20] = poll(&pf, 1, 10);
  write(ep_pipe[1], "z", 1);
  r[21] = poll(&pf, 1, -1);
  r[22] = pf.revents;
  close(tmp); close(efd); close(sem); close(ep); close(ep_pipe[0]); close(ep_pipe[1]);
}

void tmp_semantics(long *r, char *names) {
  struct stat st;
  char buf[32] = {0};
  r[0] = mkdir("/tmp/d", 0755);
  int fd = open("/tmp/d/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644);
  r[1] = write(fd, "hello world", 11);
  close(fd);
  r[2] = open("/tmp/d/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 ? errno : 0;
  fd = open("/tmp/d/a.txt", O_RDWR);
  lseek(fd, 100, SEEK_SET);
  write(fd, "x", 1);
  fstat(fd, &st); r[3] = st.st_size;
  pread(fd, buf, 11, 0); r[4] = memcmp(buf, "hello world", 11) == 0;
  ftruncate(fd, 5);
  fstat(fd, &st); r[5] = st.st_size;
  close(fd);
  fd = open("/tmp/d/a.txt", O_WRONLY | O_APPEND);
  write(fd, "!!", 2);
  close(fd);
  r[6] = rename("/tmp/d/a.txt", "/tmp/d/b.txt");
  r[7] = stat("/tmp/d/a.txt", &st) < 0 ? errno : 0;
  FILE *f = fopen("/tmp/d/b.txt", "r");
  memset(buf, 0, sizeof buf);
  fread(buf, 1, sizeof buf - 1, f); fclose(f);
  r[8] = strcmp(buf, "hello!!") == 0;
  f = fopen("/tmp/d/c.txt", "w"); fprintf(f, "%d", 42); fclose(f);
  stat("/tmp/d/c.txt", &st); r[9] = st.st_size;
  DIR *d = opendir("/tmp/d");
  names[0] = 0;
  struct dirent *e;
  while ((e = readdir(d))) { strcat(names, e->d_name); strcat(names, ","); }
  closedir(d);
  r[10] = rmdir("/tmp/d") < 0 ? errno : 0;
  r[11] = unlink("/tmp/d/c.txt");
  r[12] = unlink("/tmp/d/b.txt");
  r[13] = rmdir("/tmp/d");
  r[14] = open("/usr/new", O_CREAT | O_WRONLY, 0644) < 0 ? errno : 0;
  r[15] = mkdir("/usr/x", 0755) < 0 ? errno : 0;
  r[16] = unlink("/usr/bin/shimulator-stub") < 0 ? errno : 0;
  r[17] = mkdir("/tmp", 0755) < 0 ? errno : 0;
  r[18] = unlink("/no/such") < 0 ? errno : 0;
  r[19] = fsync(1);
}

/* Writes `total` bytes to stdout in chunks of `chunk`; returns the bytes written. */
long spew(long total, long chunk) {
  static char block[1 << 20];
  memset(block, 'a', sizeof block);
  long done = 0;
  while (done < total) {
    long n = write(1, block, chunk < total - done ? chunk : total - done);
    if (n <= 0) return -errno;
    done += n;
  }
  return done;
}

