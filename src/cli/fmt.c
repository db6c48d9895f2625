/* `specbase fmt [--check|--write] FILE`: parse a spec (no checking, so that
 * a spec with unresolved names can still be formatted) and print it in the
 * canonical form of sb_spec_format. --check only says whether the file is
 * already canonical; --write replaces the file atomically (temporary file in
 * the same directory, fsync, rename) when its text changes. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "spec/spec.h"
#include "util/buf.h"
#include "util/diag.h"

static const struct sb_cli_usage usage = {
    "fmt",
    "fmt [--check|--write] FILE",
    "Print the spec in FILE ('-' for standard input) in canonical form on\n"
    "stdout: one declaration per line, canonical spacing, comments kept.\n"
    "  --check  print nothing; exit 0 if FILE is canonical, else say so and exit 1\n"
    "  --write  rewrite FILE in place (atomically) if it is not canonical\n"
    "A file with syntax errors is not formatted: the errors are printed and the\n"
    "exit code is 1.",
};

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Make the rename durable: fsync the directory holding path. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    struct sb_buf dir;
    sb_buf_init(&dir);
    if (!slash)
        sb_buf_puts(&dir, ".");
    else if (slash == path)
        sb_buf_puts(&dir, "/");
    else
        sb_buf_append(&dir, path, (size_t)(slash - path));
    int fd = open(sb_buf_str(&dir), O_RDONLY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse it on directories */
        close(fd);
    }
    sb_buf_free(&dir);
}

/* Replace the file at path (a symbolic link is followed) with data: a
 * temporary file next to it, same permissions, fsync, rename. */
static int replace_file(const char *path, const char *data, size_t len)
{
    int rc = -1, fd = -1;
    bool created = false;
    struct sb_buf tmp;
    sb_buf_init(&tmp);
    char *target = realpath(path, NULL);
    if (!target) {
        fprintf(stderr, "specbase: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(target, &st) < 0)
        goto fail;
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    sb_buf_append(&tmp, target, (size_t)(base - target));
    sb_buf_printf(&tmp, ".%s.tmp-XXXXXX", base);
    fd = mkstemp(tmp.data);
    if (fd < 0)
        goto fail;
    created = true;
    if (fchmod(fd, st.st_mode & 07777) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0)
        goto fail;
    int closed = close(fd);
    fd = -1;
    if (closed < 0 || rename(tmp.data, target) < 0)
        goto fail;
    sync_dir(target);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "specbase: %s: cannot write: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp.data);
done:
    free(target);
    sb_buf_free(&tmp);
    return rc;
}

int sb_cmd_fmt(int argc, char **argv)
{
    bool check_only = false, rewrite = false;
    const struct sb_cli_flag flags[] = {{"--check", &check_only}, {"--write", &rewrite}};
    const char *file;
    int exit_code;
    if (sb_cli_parse(argc, argv, &usage, flags, 2, &file, &exit_code) < 0)
        return exit_code;
    if (check_only && rewrite)
        return sb_cli_usage_error(&usage, "--check and --write exclude each other");
    if (rewrite && strcmp(file, "-") == 0)
        return sb_cli_usage_error(&usage, "--write needs a file, not standard input");

    int rc = SB_EXIT_INPUT;
    char *text = NULL;
    size_t len = 0;
    struct sb_model *model = NULL;
    struct sb_buf err, out;
    sb_buf_init(&err);
    sb_buf_init(&out);
    if (sb_spec_read_file(file, &text, &len, &err) < 0) {
        fputs(sb_buf_str(&err), stderr); /* "specbase: FILE: reason" */
        goto done;
    }
    const char *name = sb_cli_display_name(file);
    struct sb_source source = {name, text, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    model = sb_spec_parse(name, text, len, &diags);
    if (diags.n_errors > 0) {
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &err);
        fputs(sb_buf_str(&err), stderr);
        sb_diags_free(&diags);
        goto done;
    }
    sb_diags_free(&diags);

    sb_spec_format(model, &out);
    bool same = out.len == len && memcmp(sb_buf_str(&out), text, len) == 0;
    if (check_only) {
        if (!same)
            fprintf(stderr, "%s: not formatted\n", name);
        rc = same ? SB_EXIT_OK : SB_EXIT_INPUT;
    } else if (rewrite) {
        if (same || replace_file(file, sb_buf_str(&out), out.len) == 0)
            rc = SB_EXIT_OK;
    } else {
        rc = sb_cli_write_stdout(sb_buf_str(&out), out.len) == 0 ? SB_EXIT_OK : SB_EXIT_INPUT;
    }
done:
    if (model)
        sb_model_free(model);
    free(text);
    sb_buf_free(&out);
    sb_buf_free(&err);
    return rc;
}
