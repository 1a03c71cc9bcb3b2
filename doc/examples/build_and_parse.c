/*
 * build_and_parse.c — a small program using only <jim/jim.h>: it builds JIM
 * messages, encodes them, cuts the resulting stream with a framer and reads
 * the objects back, answering a bad one as a server would.
 *
 * Build: cc build_and_parse.c $(pkg-config --cflags --libs libjim)
 */
#include <jim/jim.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    jim_msg *msg = NULL, *reply = NULL;
    jim_framer *framer = NULL;
    char stream[1024] = "";
    const char *json;
    size_t len;
    int rc;

    if (jim_msg_new(&msg) != JIM_OK || jim_msg_new(&reply) != JIM_OK ||
        jim_framer_new(&framer, NULL) != JIM_OK) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Build two requests; a fixed time keeps the output stable. */
    jim_msg_make_authenticate(msg, "alice", "correct horse");
    jim_msg_set_int(msg, JIM_FIELD_TIME, 1700000000);
    jim_msg_set_features(msg, JIM_FEATURE_NDJSON);
    if (jim_msg_encode(msg, &json, &len) == JIM_OK)
        strncat(stream, json, len);

    jim_msg_make_text(msg, "#cafe", "bonjour \xe2\x98\x95");
    jim_msg_set_int(msg, JIM_FIELD_TIME, 1700000001);
    if (jim_msg_encode(msg, &json, &len) == JIM_OK)
        strncat(stream, json, len);

    /* A course client's object with no newline, then one that is not valid. */
    strcat(stream, "{\"action\":\"message\",\"time\":1.5,\"to\":\"bob\",\"mess_text\":\"hi\"}");
    strcat(stream, "{\"action\":\"msg\",\"to\":\"bob\"}\n");
    fputs(stream, stdout);

    /* Feed the stream in 7-byte pieces, as a socket might deliver it. */
    for (size_t off = 0; off < strlen(stream); off += 7) {
        size_t n = strlen(stream) - off < 7 ? strlen(stream) - off : 7;
        jim_framer_feed(framer, stream + off, n);
        while ((rc = jim_framer_next_msg(framer, msg)) != JIM_EAGAIN) {
            if (rc != JIM_OK) {
                jim_msg_init_response(reply, 400, jim_framer_errmsg(framer));
                jim_msg_set_int(reply, JIM_FIELD_TIME, 1700000002);
                jim_msg_encode(reply, &json, &len);
                printf("bad object (%s), reply: %s", jim_strerror(rc), json);
                if (!jim_framer_can_continue(framer))
                    break;
                continue;
            }
            printf("%s", jim_action_name(jim_msg_action(msg)));
            if (jim_msg_has(msg, JIM_FIELD_ACCOUNT_NAME))
                printf(" account=%s", jim_msg_get_str(msg, JIM_FIELD_ACCOUNT_NAME));
            if (jim_msg_has(msg, JIM_FIELD_TO))
                printf(" to=%s", jim_msg_get_str(msg, JIM_FIELD_TO));
            if (jim_msg_has(msg, JIM_FIELD_MESSAGE))
                printf(" text=%s", jim_msg_get_str(msg, JIM_FIELD_MESSAGE));
            if (jim_msg_features(msg) & JIM_FEATURE_NDJSON)
                printf(" ndjson");
            if (jim_msg_dialect(msg) == JIM_DIALECT_REFERENCE)
                printf(" (course dialect)");
            printf("\n");
        }
    }

    jim_framer_free(framer);
    jim_msg_free(reply);
    jim_msg_free(msg);
    return 0;
}
