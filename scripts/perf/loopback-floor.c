/*
 * The machine's floor for serving over loopback, with no Node and no HTTP: a client process sends
 * 5,124 bytes (a melspectrogram request's size) to a server process over TCP on 127.0.0.1, the server
 * busy-works WORK_MS (the model's time) and answers 644 bytes, 4,000 times in a row; prints the p50
 * round trip and its overhead over WORK_MS. README (bench:serve) quotes it.
 *
 *   gcc -O2 -o /tmp/loopback-floor scripts/perf/loopback-floor.c && /tmp/loopback-floor 1.0
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { REQUEST = 5124, RESPONSE = 644, COUNT = 4000 };

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void read_exactly(int fd, char *buf, int n) {
  for (int got = 0; got < n;) {
    int r = read(fd, buf + got, n - got);
    if (r <= 0) exit(0);
    got += r;
  }
}

static int by_value(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return (d > 0) - (d < 0);
}

int main(int argc, char **argv) {
  double work_ms = argc > 1 ? atof(argv[1]) : 1.0;
  static char buf[REQUEST];
  static double took[COUNT];
  int one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof addr;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 1) ||
      getsockname(listener, (struct sockaddr *)&addr, &len)) {
    perror("loopback-floor: listen");
    return 1;
  }
  if (fork() == 0) { /* the server */
    int conn = accept(listener, 0, 0);
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
      read_exactly(conn, buf, REQUEST);
      for (double end = now_ms() + work_ms; now_ms() < end;) {
      }
      if (write(conn, buf, RESPONSE) != RESPONSE) return 1;
    }
  }
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(client, (struct sockaddr *)&addr, len)) {
    perror("loopback-floor: connect");
    return 1;
  }
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (int i = 0; i < COUNT; i++) {
    double t0 = now_ms();
    if (write(client, buf, REQUEST) != REQUEST) return 1;
    read_exactly(client, buf, RESPONSE);
    took[i] = now_ms() - t0;
  }
  close(client);
  wait(0);
  qsort(took, COUNT, sizeof took[0], by_value);
  double p50 = took[COUNT / 2];
  printf("work %.3f ms, round trip p50 %.3f ms (+%.1f %%)\n", work_ms, p50, 100 * (p50 - work_ms) / work_ms);
  return 0;
}
