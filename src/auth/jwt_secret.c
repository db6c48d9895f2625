/* The HS256 secret file (sb_jwt_secret_file, jwt.h): read it, or make it on
 * first start. The file holds text, used as the secret as is (like
 * PostgREST's jwt-secret), so the same string can be given to another tool
 * that signs or checks tokens. A new file gets 48 bytes from libsodium's
 * randombytes_buf as 64 base64url characters, is created with O_EXCL and mode
 * 0600 (two servers starting at once cannot write two different secrets:
 * the loser of the race reads the winner's file), and is synced before use.
 * A file others could read or write is refused rather than "fixed": the
 * operator should know their secret may have leaked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/jwt.h"

#define RANDOM_BYTES 48 /* 64 base64url characters, 384 bits */

static int read_secret(int fd, const char *path, unsigned char *secret, size_t cap, size_t *len,
                       struct sb_buf *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sb_buf_printf(err, "JWT secret file %s: not a regular file", path);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        sb_buf_printf(err,
                      "JWT secret file %s: group or others may access it (mode %04o); the secret "
                      "may have leaked: make a new one, or if it is safe, run 'chmod 600 %s'",
                      path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    unsigned char text[SB_JWT_MAX_SECRET + 2];
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, text + n, sizeof(text) - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sb_buf_printf(err, "JWT secret file %s: cannot read: %s", path, strerror(errno));
            sodium_memzero(text, sizeof(text));
            return -1;
        }
        if (got == 0 || (n += (size_t)got) == sizeof(text))
            break;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t'))
        n--;
    int rc = 0;
    if (n < SB_JWT_MIN_SECRET || n > SB_JWT_MAX_SECRET || n > cap) {
        sb_buf_printf(err, "JWT secret file %s: the secret must be %d to %d bytes long%s", path,
                      SB_JWT_MIN_SECRET, SB_JWT_MAX_SECRET,
                      n < SB_JWT_MIN_SECRET ? " (it is shorter)" : " (it is longer)");
        rc = -1;
    } else {
        memcpy(secret, text, n);
        *len = n;
    }
    sodium_memzero(text, sizeof(text));
    return rc;
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
static int create_secret(const char *path, unsigned char *secret, size_t cap, size_t *len,
                         struct sb_buf *err)
{
    if (cap < sodium_base64_ENCODED_LEN(RANDOM_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
        sb_buf_printf(err, "JWT secret file %s: no room for a new secret", path);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 1;
    if (fd < 0) {
        sb_buf_printf(err, "JWT secret file %s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    unsigned char raw[RANDOM_BYTES];
    char text[sodium_base64_ENCODED_LEN(RANDOM_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(text, sizeof(text), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    size_t text_len = strlen(text);
    text[text_len] = '\n'; /* the terminating NUL's place: written, not kept */

    const char *failed = NULL;
    int saved_errno = 0;
    if (fchmod(fd, 0600) != 0) {
        failed = "cannot set mode 0600";
    } else {
        size_t done = 0;
        while (done < text_len + 1 && !failed) {
            ssize_t n = write(fd, text + done, text_len + 1 - done);
            if (n < 0 && errno != EINTR)
                failed = "cannot write";
            else if (n > 0)
                done += (size_t)n;
        }
        if (!failed && fsync(fd) != 0)
            failed = "cannot sync";
    }
    saved_errno = errno;
    if (close(fd) != 0 && !failed) {
        failed = "cannot close";
        saved_errno = errno;
    }
    if (failed) {
        unlink(path);
        sodium_memzero(text, sizeof(text));
        sb_buf_printf(err, "JWT secret file %s: %s: %s", path, failed, strerror(saved_errno));
        return -1;
    }
    sync_dir(path);
    memcpy(secret, text, text_len);
    *len = text_len;
    sodium_memzero(text, sizeof(text));
    return 0;
}

int sb_jwt_secret_file(const char *path, unsigned char *secret, size_t *len, bool *created,
                       struct sb_buf *err)
{
    size_t cap = *len;
    *len = 0;
    *created = false;
    if (sodium_init() < 0) {
        sb_buf_puts(err, "libsodium could not be initialised");
        return -1;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            int rc = read_secret(fd, path, secret, cap, len, err);
            close(fd);
            return rc;
        }
        if (errno != ENOENT) {
            sb_buf_printf(err, "JWT secret file %s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        int rc = create_secret(path, secret, cap, len, err);
        if (rc <= 0) {
            *created = rc == 0;
            return rc;
        }
    }
    sb_buf_printf(err, "JWT secret file %s: it keeps appearing and disappearing", path);
    return -1;
}
