/* Read or create a private secret file (see secret_file.h). */
#include "util/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static int read_secret(int fd, const char *what, const char *path, char *text, size_t cap,
                       size_t *len, struct sb_buf *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sb_buf_printf(err, "%s %s: not a regular file", what, path);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        sb_buf_printf(err,
                      "%s %s: group or others may access it (mode %04o); the secret may have "
                      "leaked: make a new one, or if it is safe, run 'chmod 600 %s'",
                      what, path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    size_t n = 0;
    while (n < cap) {
        ssize_t got = read(fd, text + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sb_buf_printf(err, "%s %s: cannot read: %s", what, path, strerror(errno));
            sodium_memzero(text, cap);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t'))
        n--;
    *len = n;
    return 0;
}

/* Sync the directory holding path, so that the new file's name is durable. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* 0 created, 1 the file appeared meanwhile (read it), -1 error. */
static int create_secret(const char *what, const char *path, sb_secret_make_fn make, char *text,
                         size_t cap, size_t *len, struct sb_buf *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 1;
    if (fd < 0) {
        sb_buf_printf(err, "%s %s: cannot create: %s", what, path, strerror(errno));
        return -1;
    }
    size_t n = make(text, cap);
    const char *failed = NULL;
    if (fchmod(fd, 0600) != 0) {
        failed = "cannot set mode 0600";
    } else {
        size_t done = 0;
        while (done < n + 1 && !failed) {
            /* the text, then a newline */
            ssize_t put = done < n ? write(fd, text + done, n - done) : write(fd, "\n", 1);
            if (put < 0 && errno != EINTR)
                failed = "cannot write";
            else if (put > 0)
                done += (size_t)put;
        }
        if (!failed && fsync(fd) != 0)
            failed = "cannot sync";
    }
    int saved_errno = errno;
    if (close(fd) != 0 && !failed) {
        failed = "cannot close";
        saved_errno = errno;
    }
    if (failed) {
        unlink(path);
        sodium_memzero(text, cap);
        sb_buf_printf(err, "%s %s: %s: %s", what, path, failed, strerror(saved_errno));
        return -1;
    }
    sync_dir(path);
    *len = n;
    return 0;
}

int sb_secret_file(const char *what, const char *path, bool nofollow, sb_secret_make_fn make,
                   char *text, size_t cap, size_t *len, bool *created, struct sb_buf *err)
{
    *len = 0;
    if (created)
        *created = false;
    if (sodium_init() < 0) {
        sb_buf_puts(err, "libsodium could not be initialised");
        return -1;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
        if (fd >= 0) {
            int rc = read_secret(fd, what, path, text, cap, len, err);
            close(fd);
            return rc;
        }
        if (errno != ENOENT) {
            sb_buf_printf(err, "%s %s: cannot open: %s", what, path, strerror(errno));
            return -1;
        }
        int rc = create_secret(what, path, make, text, cap, len, err);
        if (rc <= 0) {
            if (rc == 0 && created)
                *created = true;
            return rc;
        }
    }
    sb_buf_printf(err, "%s %s: it keeps appearing and disappearing", what, path);
    return -1;
}
