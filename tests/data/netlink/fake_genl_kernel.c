/* tests/data/netlink/fake_genl_kernel.c: an LD_PRELOAD stand-in for the kernel's generic
 * netlink, so that capture.sh can record what iproute2's `devlink` sends on a kernel
 * without devlink (CONFIG_NET_DEVLINK=n: `devlink` stops at "Failed to connect to devlink
 * Netlink" before building its command).
 *
 * It takes over the NETLINK_GENERIC socket the program opens (libmnl's socket, bind,
 * getsockname, setsockopt, sendto, recvmsg) and answers:
 *   CTRL_CMD_GETFAMILY           -> the family "devlink" with id FAKE_GENL_FAMILY_ID (env,
 *                                   default 0x1c), then an ACK;
 *   anything else                -> NLMSG_ERROR -ENODEV (what the kernel answers for a
 *                                   device it does not know).
 * Every request is appended to FAKE_GENL_CAPTURE (env) as one line of hex bytes.
 * Only the family id is ours: every captured byte is built by the program itself.
 *
 * Build: cc -shared -fPIC -o fake_genl_kernel.so fake_genl_kernel.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static int fake_fd = -1;
static unsigned char reply[4096];
static size_t reply_len;

static int family_id(void) {
  const char *s = getenv("FAKE_GENL_FAMILY_ID");
  return s ? (int)strtol(s, NULL, 0) : 0x1c;
}

static void record(const void *buf, size_t len) {
  const char *path = getenv("FAKE_GENL_CAPTURE");
  if (!path) return;
  FILE *f = fopen(path, "a");
  if (!f) return;
  for (size_t i = 0; i < len; ++i) fprintf(f, "%s%02x", i ? " " : "", ((const unsigned char *)buf)[i]);
  fputc('\n', f);
  fclose(f);
}

static void put_attr(unsigned char **p, uint16_t type, const void *data, uint16_t len) {
  struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
  memcpy(*p, &a, sizeof(a));
  memcpy(*p + NLA_HDRLEN, data, len);
  memset(*p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
  *p += NLA_HDRLEN + NLA_ALIGN(len);
}

/* Appends an NLMSG_ERROR (error 0 = ACK) quoting the request's header (NLM_F_CAPPED). */
static void append_error(const struct nlmsghdr *req, int error) {
  struct nlmsghdr h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)),
                       .nlmsg_type = NLMSG_ERROR,
                       .nlmsg_flags = NLM_F_CAPPED,
                       .nlmsg_seq = req->nlmsg_seq,
                       .nlmsg_pid = (uint32_t)getpid()};
  struct nlmsgerr e = {.error = error, .msg = *req};
  memcpy(reply + reply_len, &h, sizeof(h));
  memcpy(reply + reply_len + NLMSG_HDRLEN, &e, sizeof(e));
  reply_len += h.nlmsg_len;
}

static void answer(const void *buf, size_t len) {
  const struct nlmsghdr *req = buf;
  reply_len = 0;
  if (len < NLMSG_HDRLEN + GENL_HDRLEN) return;
  const struct genlmsghdr *g = (const void *)((const unsigned char *)buf + NLMSG_HDRLEN);
  record(buf, len);
  if (req->nlmsg_type == GENL_ID_CTRL && g->cmd == CTRL_CMD_GETFAMILY) {
    unsigned char *start = reply, *p = start + NLMSG_HDRLEN;
    struct genlmsghdr rg = {.cmd = CTRL_CMD_NEWFAMILY, .version = 2};
    memcpy(p, &rg, sizeof(rg));
    p += GENL_HDRLEN;
    uint16_t id = (uint16_t)family_id();
    uint32_t version = 1, hdrsize = 0, maxattr = 200;
    put_attr(&p, CTRL_ATTR_FAMILY_NAME, "devlink", 8);
    put_attr(&p, CTRL_ATTR_FAMILY_ID, &id, sizeof(id));
    put_attr(&p, CTRL_ATTR_VERSION, &version, sizeof(version));
    put_attr(&p, CTRL_ATTR_HDRSIZE, &hdrsize, sizeof(hdrsize));
    put_attr(&p, CTRL_ATTR_MAXATTR, &maxattr, sizeof(maxattr));
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)(p - start),
                         .nlmsg_type = GENL_ID_CTRL,
                         .nlmsg_seq = req->nlmsg_seq,
                         .nlmsg_pid = (uint32_t)getpid()};
    memcpy(start, &h, sizeof(h));
    reply_len = h.nlmsg_len;
    if (req->nlmsg_flags & NLM_F_ACK) append_error(req, 0);
    return;
  }
  append_error(req, -ENODEV);
}

int socket(int domain, int type, int protocol) {
  static int (*real)(int, int, int);
  if (!real) real = dlsym(RTLD_NEXT, "socket");
  if (domain == AF_NETLINK && protocol == NETLINK_GENERIC) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return -1;
    fake_fd = sv[0];
    return fake_fd;
  }
  return real(domain, type, protocol);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  static int (*real)(int, int, int, const void *, socklen_t);
  if (!real) real = dlsym(RTLD_NEXT, "setsockopt");
  if (fd == fake_fd) return 0;
  return real(fd, level, name, val, len);
}

int bind(int fd, const struct sockaddr *a, socklen_t len) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = dlsym(RTLD_NEXT, "bind");
  if (fd == fake_fd) return 0;
  return real(fd, a, len);
}

int getsockname(int fd, struct sockaddr *a, socklen_t *len) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = dlsym(RTLD_NEXT, "getsockname");
  if (fd == fake_fd) {
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_pid = (uint32_t)getpid()};
    memcpy(a, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
    *len = sizeof(nl);
    return 0;
  }
  return real(fd, a, len);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *a, socklen_t alen) {
  static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
  if (!real) real = dlsym(RTLD_NEXT, "sendto");
  if (fd == fake_fd) {
    answer(buf, len);
    return (ssize_t)len;
  }
  return real(fd, buf, len, flags, a, alen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
  static ssize_t (*real)(int, struct msghdr *, int);
  if (!real) real = dlsym(RTLD_NEXT, "recvmsg");
  if (fd == fake_fd) {
    if (reply_len == 0 || msg->msg_iovlen < 1 || msg->msg_iov[0].iov_len < reply_len) {
      errno = EAGAIN;
      return -1;
    }
    memcpy(msg->msg_iov[0].iov_base, reply, reply_len);
    if (msg->msg_name && msg->msg_namelen >= sizeof(struct sockaddr_nl)) {
      struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
      memcpy(msg->msg_name, &nl, sizeof(nl));
    }
    msg->msg_namelen = sizeof(struct sockaddr_nl);
    msg->msg_flags = 0;
    size_t n = reply_len;
    reply_len = 0;
    return (ssize_t)n;
  }
  return real(fd, msg, flags);
}
