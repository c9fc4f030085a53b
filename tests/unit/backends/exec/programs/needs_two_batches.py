"""Test model for exec_plugin_test (persistent mode, add_sub's tensors): it announces
FEATURE_PIPELINED and reads TWO batches before it answers either, so it serves only a plugin that
sends the next BATCH before the previous one's RESULT. Each RESULT answers OUTPUT0 = INPUT0 +
INPUT1, OUTPUT1 = INPUT0 - INPUT1. If no second batch comes within 10 s, the first is answered
with the error "the second batch never came" (the test then fails on that message, not on a
hang)."""
import io
import select

import switchyard_exec as sx

stream_in, stream_out = sx._protocol_streams()
# After the handshake, unbuffered: select() on the descriptor then sees every byte not yet read.
raw_in = io.FileIO(stream_in.fileno(), "rb", closefd=False)


def frame(stream=raw_in):
    got = sx._read_frame(stream)
    if got is None:
        raise SystemExit(0)
    return got


def answer(batch_id, requests, error=None):
    w = sx._Writer()
    w.u64(batch_id)
    w.u32(len(requests))
    for inputs, _ in requests:
        if error:
            w.u8(sx.INTERNAL)
            w.str(error)
            continue
        a, b = inputs["INPUT0"], inputs["INPUT1"]
        w.u8(sx.OK)
        w.u32(2)
        for name, value in (("OUTPUT0", a + b), ("OUTPUT1", a - b)):
            shape, data = sx.encode_tensor(name, "INT32", value)
            w.tensor(name, "INT32", shape, data)
    stream_out.write(w.frame(sx.RESULT))
    stream_out.flush()


kind, body = frame(stream_in)  # the plugin sends nothing more until READY
assert kind == sx.HELLO
w = sx._Writer()
w.parts.append(sx.MAGIC)
w.u32(sx.PROTOCOL_VERSION)
w.u32(sx.FEATURE_REQUEST_PARAMETERS | sx.FEATURE_PIPELINED)
stream_out.write(w.frame(sx.READY))
stream_out.flush()
while True:
    first = sx._parse_batch(frame()[1])
    if not select.select([raw_in], [], [], 10)[0]:
        answer(*first, error="the second batch never came")
        continue
    second = sx._parse_batch(frame()[1])
    answer(*first)
    answer(*second)
