/* libFuzzer target for the spec front end (`make fuzz`). Each input is a
 * spec: it is parsed, formatted, checked when it parsed cleanly, dumped as
 * JSON when it checked cleanly, its diagnostics rendered, and everything
 * freed, under AddressSanitizer and UndefinedBehaviorSanitizer. Beyond
 * memory errors it asserts one property: the formatter's output of a clean
 * spec parses cleanly and formats to itself (format(parse(format(x))) ==
 * format(x)); otherwise it aborts, and libFuzzer keeps the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/buf.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse text; returns the model and whether it parsed without errors, with
 * the rendered diagnostics appended to report. */
static struct sb_model *parse(const char *text, size_t len, struct sb_buf *report, int *clean)
{
    struct sb_source source = {"fuzz.spec", text, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("fuzz.spec", text, len, &diags);
    *clean = diags.n_errors == 0;
    sb_diags_sort(&diags);
    sb_diags_render(&diags, report);
    sb_diags_free(&diags);
    return model;
}

static void fail(const char *what, const struct sb_buf *first, const struct sb_buf *second,
                 const struct sb_buf *report)
{
    fprintf(stderr, "fuzz_spec: %s\n--- format(x):\n%s\n--- again:\n%s\n--- diagnostics:\n%s\n",
            what, sb_buf_str(first), second ? sb_buf_str(second) : "", sb_buf_str(report));
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct sb_buf report, formatted, again, json;
    sb_buf_init(&report);
    sb_buf_init(&formatted);
    sb_buf_init(&again);
    sb_buf_init(&json);

    int clean;
    struct sb_model *model = parse(text, size, &report, &clean);
    sb_spec_format(model, &formatted);
    if (clean) {
        struct sb_source source = {"fuzz.spec", text, size};
        struct sb_diags diags;
        sb_diags_init(&diags, &source);
        if (sb_spec_check(model, &diags) == 0)
            sb_spec_to_json(model, &json);
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &report);
        sb_diags_free(&diags);
    }
    sb_model_free(model);

    if (clean) {
        int clean_again;
        sb_buf_reset(&report);
        struct sb_model *reparsed =
            parse(sb_buf_str(&formatted), formatted.len, &report, &clean_again);
        if (!clean_again)
            fail("the formatted spec does not parse", &formatted, NULL, &report);
        sb_spec_format(reparsed, &again);
        if (again.len != formatted.len ||
            memcmp(sb_buf_str(&again), sb_buf_str(&formatted), again.len) != 0)
            fail("formatting is not idempotent", &formatted, &again, &report);
        sb_model_free(reparsed);
    }

    sb_buf_free(&json);
    sb_buf_free(&again);
    sb_buf_free(&formatted);
    sb_buf_free(&report);
    return 0;
}
