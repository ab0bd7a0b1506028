"""Kamaelia.Protocol.Framing: SimpleFrame's wire format, the four components, shutdown rules."""

import random
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import Kamaelia.Protocol.Framing as Framing
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Protocol.Framing import (
    CorruptFrame,
    DataChunker,
    DataDeChunker,
    DeFramer,
    Framer,
    IncompleteChunk,
    ShortFrame,
    SimpleFrame,
)
from Kamaelia.Support.Data.Escape import escape

SYNC23 = "X" * 23
ALL_CHARS = "".join(chr(i) for i in range(256))


class Sink(component):
    """Never run: its inbox and control hold what a component under test sends it."""


def driven(theComponent):
    """``theComponent`` activated (but not run) with outbox/signal linked to a Sink's inbox/control."""
    sink = Sink()
    theComponent.link((theComponent, "outbox"), (sink, "inbox"))
    theComponent.link((theComponent, "signal"), (sink, "control"))
    theComponent.activate()
    return sink


def received(sink, box="inbox"):
    messages = []
    while sink.dataReady(box):
        messages.append(sink.recv(box))
    return messages


def chunk(message, sync=SYNC23):
    return sync + escape(message, sync)


# -- SimpleFrame ----------------------------------------------------------------------------

@pytest.mark.parametrize("tag, data, wire", [
    (1, "1", "1 1\n1"),
    (50, "1111", "50 4\n1111"),
    (7, "", "7 0\n"),
    ("name", "a\nb\x00c", "name 5\na\nb\x00c"),
])
def test_str_of_a_frame_is_tag_space_length_linefeed_data(tag, data, wire):
    assert str(SimpleFrame(tag, data)) == wire


def test_a_frame_of_100_random_characters_has_the_exact_header():
    rng = random.Random(9)
    data = "".join(rng.choice(ALL_CHARS) for _ in range(100))
    assert str(SimpleFrame(50, data)) == "50 100\n" + data


@pytest.mark.parametrize("args", [(), (1,), (1, "a", "b")])
def test_only_a_tag_and_data_pair_makes_a_frame_anything_else_is_a_ValueError(args):
    frame = SimpleFrame(*args)
    assert frame.t == args
    with pytest.raises(ValueError):
        str(frame)


def test_fromString_gives_int_tag_and_data():
    assert SimpleFrame.fromString("1 1\n1") == (1, "1")
    assert SimpleFrame.fromString("50 4\n1111") == (50, "1111")
    assert SimpleFrame.fromString("-3 2\n\n\n") == (-3, "\n\n")


def test_fromString_drops_data_beyond_the_length():
    assert SimpleFrame.fromString("1 2\n1111") == (1, "11")


def test_fromString_of_a_short_frame_raises_ShortFrame_with_what_there_is():
    with pytest.raises(ShortFrame) as caught:
        SimpleFrame.fromString("1 2\n")
    tag, data, count, frameLength, bodyLength, frame = caught.value.args
    assert (tag, data, frameLength, bodyLength, frame) == (1, "", 4, 0, "1 2\n")
    assert count == Framing.COUNT


def test_COUNT_counts_the_frames_decoded():
    before = Framing.COUNT
    SimpleFrame.fromString("1 1\n1")
    SimpleFrame.fromString("2 0\n")
    with pytest.raises(ShortFrame):
        SimpleFrame.fromString("1 5\nab")
    assert Framing.COUNT == before + 2


@pytest.mark.parametrize("frame", ["no linefeed", "one\nx", "1 two\nx", "1 2 3\nabc", "1\nx",
                                   "1 -1\nx", b"x 1\na"])
def test_a_header_that_is_not_two_integers_is_a_CorruptFrame_which_is_a_ValueError(frame):
    with pytest.raises(CorruptFrame):
        SimpleFrame.fromString(frame)
    assert issubclass(CorruptFrame, ValueError)


@settings(max_examples=200, deadline=None)
@given(st.integers(), st.text(alphabet=st.characters(max_codepoint=0x3FF)))
def test_any_int_tag_and_text_round_trips(tag, data):
    assert SimpleFrame.fromString(str(SimpleFrame(tag, data))) == (tag, data)


@settings(max_examples=200, deadline=None)
@given(st.integers(), st.binary())
def test_bytes_frames_have_the_same_format_and_round_trip(tag, data):
    wire = bytes(SimpleFrame(tag, data))
    assert wire == b"%d %d\n" % (tag, len(data)) + data
    assert SimpleFrame.fromString(wire) == (tag, data)


def test_str_and_bytes_of_a_frame_refuse_the_other_kind_of_data():
    with pytest.raises(TypeError):
        str(SimpleFrame(1, b"bytes"))
    with pytest.raises(TypeError):
        bytes(SimpleFrame(1, "text"))


# -- Framer / DeFramer --------------------------------------------------------------------

def test_Framer_sends_the_frame_of_one_item_within_20_steps():
    framer = Framer()
    sink = driven(framer)
    framer._deliver((1, "1"), "inbox")
    for _ in range(20):
        framer.next()
    assert received(sink) == ["1 1\n1"]


def test_Framer_frames_100_sequential_items_in_order():
    framer = Framer()
    sink = driven(framer)
    expected = []
    for i in range(100):
        data = "x" * i
        framer._deliver((i, data), "inbox")
        framer.next()
        expected.append("%d %d\n%s" % (i, i, data))
    assert received(sink) == expected


def test_DeFramer_sends_the_pair_of_one_frame_within_20_steps():
    deframer = DeFramer()
    sink = driven(deframer)
    deframer._deliver("50 4\n1111", "inbox")
    for _ in range(20):
        deframer.next()
    assert received(sink) == [(50, "1111")]


def test_DeFramer_drops_a_truncated_frame_and_carries_on_with_the_next():
    frames = [str(SimpleFrame(i, "frame number %d" % i)) for i in range(1, 10)]
    frames[4] = frames[4][:-2]
    h = ComponentHarness(DeFramer())
    for frame in frames:
        h.put(frame)
    h.put("garbage without a header")
    h.put("12 1\nx")
    h.runUntilIdle()
    assert h.getAll("outbox") == [(i, "frame number %d" % i) for i in [1, 2, 3, 4, 6, 7, 8, 9]] + [
        (12, "x")]


def test_Framer_sends_bytes_frames_for_bytes_data_and_DeFramer_reads_them():
    h = ComponentHarness(Pipeline(Framer(), DeFramer()))
    h.put((5, b"\x00\n\xff"))
    h.put((6, "text"))
    h.runUntilIdle()
    assert h.getAll("outbox") == [(5, b"\x00\n\xff"), (6, "text")]
    framer = ComponentHarness(Framer())
    framer.put((5, b"ab"))
    framer.runUntilIdle()
    assert framer.get("outbox") == b"5 2\nab"


ALL_FOUR = [Framer, DeFramer, DataChunker, DataDeChunker]


@pytest.mark.parametrize("cls", ALL_FOUR)
def test_runs_2000_idle_steps_without_stopping(cls):
    theComponent = cls()
    driven(theComponent)
    for _ in range(2000):
        theComponent.next()


@pytest.mark.parametrize("cls", ALL_FOUR)
def test_producerFinished_stops_it_within_2000_steps_and_the_same_object_is_passed_on(cls):
    theComponent = cls()
    sink = driven(theComponent)
    for _ in range(5):
        theComponent.next()
    message = producerFinished()
    theComponent._deliver(message, "control")
    with pytest.raises(StopIteration):
        for _ in range(2000):
            theComponent.next()
    assert received(sink, "control") == [message]
    assert received(sink, "control") == []


@pytest.mark.parametrize("cls", ALL_FOUR)
@pytest.mark.parametrize("message", ["BINGLE", shutdownMicroprocess()])
def test_other_control_messages_are_kept_and_do_not_stop_it(cls, message):
    theComponent = cls()
    sink = driven(theComponent)
    theComponent._deliver(message, "control")
    for _ in range(2000):
        theComponent.next()
    assert theComponent.last_control_message is message
    assert received(sink, "control") == []


def test_at_most_one_control_message_is_read_per_step():
    framer = Framer()
    sink = driven(framer)
    framer.next()
    framer._deliver("BINGLE", "control")
    framer._deliver(producerFinished(), "control")
    framer.next()
    assert framer.last_control_message == "BINGLE"
    assert received(sink, "control") == []
    with pytest.raises(StopIteration):
        framer.next()


@pytest.mark.parametrize("cls, item", [(Framer, (1, "a")), (DeFramer, "1 1\na"),
                                       (DataChunker, "a"), (DataDeChunker, chunk("a") + SYNC23)])
def test_data_waiting_with_the_producerFinished_is_still_handled(cls, item):
    theComponent = cls(SYNC23) if cls in (DataChunker, DataDeChunker) else cls()
    h = ComponentHarness(theComponent)
    h.put(item)
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.ready("outbox") == 1
    assert h.finished


@pytest.mark.parametrize("cls", ALL_FOUR)
def test_it_sleeps_when_idle(cls):
    h = ComponentHarness(cls())
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


# -- DataChunker ----------------------------------------------------------------------------

def test_the_default_sync_message_is_24_Xs():
    assert DataChunker().syncmessage == "X" * 24
    assert DataDeChunker().syncmessage == "X" * 24


def test_a_message_without_marker_characters_becomes_the_sync_followed_by_the_message():
    chunker = DataChunker(syncmessage=SYNC23)
    sink = driven(chunker)
    lines = ["%-36s\n" % ("line number %d of the text" % i) for i in range(20)]
    for line in lines:
        chunker._deliver(line, "inbox")
        for _ in range(20):
            chunker.next()
        assert received(sink) == [SYNC23 + line]


def test_the_sync_inside_a_message_is_escaped_so_it_occurs_only_at_the_start():
    chunker = DataChunker(syncmessage=SYNC23)
    sink = driven(chunker)
    message = "before " + SYNC23 + " after, 100% " + SYNC23[:5]
    chunker._deliver(message, "inbox")
    chunker.next()
    (result,) = received(sink)
    assert result.startswith(SYNC23)
    assert result[len(SYNC23):].find(SYNC23) == -1
    assert result == SYNC23 + "before " + "%58" * 23 + " after, 100%25 " + "%58" * 5


def test_escapeSyncMessage_and_encodeChunk_use_the_marker_characters():
    chunker = DataChunker(syncmessage="AB")
    assert chunker.escapeSyncMessage("BAD%") == "%42%41D%25"
    assert chunker.encodeChunk("BAD%") == "AB%42%41D%25"


def test_bytes_messages_give_bytes_chunks_with_a_str_marker_as_latin1():
    h = ComponentHarness(DataChunker(syncmessage="XXXX"))
    h.put(b"eXit 100%")
    h.runUntilIdle()
    assert h.get("outbox") == b"XXXXe%58it 100%25"


# -- DataDeChunker --------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    "a plain message",
    "with the sync " + SYNC23 + " inside it, twice " + SYNC23,
    "an escape that is already there: %25 and %58 and %",
    "backslashes \\x58 \\n \\\\ and newlines\n\n",
    "",
])
def test_one_whole_chunk_then_a_flush_gives_the_message(message):
    dechunker = DataDeChunker(syncmessage=SYNC23)
    sink = driven(dechunker)
    dechunker._deliver(chunk(message), "inbox")
    dechunker.next()
    assert received(sink) == []
    dechunker._deliver("junk", "flush")
    dechunker.next()
    assert received(sink) == [message]
    assert dechunker.last_message == "junk"


def test_data_and_flush_delivered_together_come_out_in_that_same_step():
    dechunker = DataDeChunker(syncmessage=SYNC23)
    sink = driven(dechunker)
    for _ in range(3):
        dechunker.next()
    dechunker._deliver(chunk("same step"), "inbox")
    dechunker._deliver("now", "flush")
    dechunker.next()
    assert received(sink) == ["same step"]


@pytest.mark.parametrize("blocksize", [1, 20])
def test_a_chunk_split_into_blocks_is_reassembled_and_IncompleteChunk_never_escapes(blocksize):
    message = "Ulysses, a line of it: " + SYNC23 + " and %25 for luck" * 5
    stream = chunk(message)
    dechunker = DataDeChunker(syncmessage=SYNC23)
    sink = driven(dechunker)
    for i in range(0, len(stream), blocksize):
        dechunker._deliver(stream[i:i + blocksize], "inbox")
        dechunker.next()
    dechunker._deliver("flush", "flush")
    dechunker.next()
    assert received(sink) == [message]


def test_20_chunks_each_in_1_character_blocks_then_a_flush_give_each_message():
    dechunker = DataDeChunker(syncmessage=SYNC23)
    sink = driven(dechunker)
    for n in range(20):
        message = "message %d with %% and X in it" % n
        for c in chunk(message):
            dechunker._deliver(c, "inbox")
            dechunker.next()
        dechunker._deliver("junk", "flush")
        dechunker.next()
        assert received(sink) == [message]


def test_a_partial_chunk_without_its_start_is_dropped_and_the_full_chunks_after_it_come_out():
    messages = ["full message %d, %d%% done, X marks it" % (n, 5 * n) for n in range(20)]
    stream = chunk("the start of this one was never seen")[30:] + "".join(chunk(m) for m in messages)
    dechunker = DataDeChunker(syncmessage=SYNC23)
    sink = driven(dechunker)
    for i in range(0, len(stream), 20):
        dechunker._deliver(stream[i:i + 20], "inbox")
        dechunker.next()
    dechunker._deliver("junk", "flush")
    dechunker.next()
    assert received(sink) == messages


def test_leading_garbage_shorter_than_the_sync_is_dropped_not_merged():
    h = ComponentHarness(DataDeChunker(syncmessage="XXXX"))
    h.put("ab" + "XXXX" + "first" + "XXXX" + "second")
    h.put(1, "flush")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["first", "second"]


def test_every_complete_chunk_comes_out_as_soon_as_the_next_sync_arrives():
    h = ComponentHarness(DataDeChunker(syncmessage="XXXX"))
    h.put("XXXXoneXXXXtwoXXXXthr")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["one", "two"]
    h.put("eeXX")
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    h.put("XX")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["three"]


def test_the_last_chunk_only_comes_out_on_a_flush_and_not_at_shutdown():
    h = ComponentHarness(DataDeChunker(syncmessage="XXXX"))
    h.put("XXXXlast one")
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.finished and h.ready("outbox") == 0


def test_a_flush_with_nothing_buffered_sends_nothing():
    h = ComponentHarness(DataDeChunker())
    h.put("please", "flush")
    h.runUntilIdle()
    assert h.ready("outbox") == 0


def test_decodeChunk_unescapes_a_chunk_and_refuses_one_without_the_sync():
    dechunker = DataDeChunker(syncmessage="AB")
    assert dechunker.decodeChunk("AB%42%41D%25") == "BAD%"
    assert dechunker.unEscapeSyncMessage("%42%41D%25") == "BAD%"
    with pytest.raises(IncompleteChunk):
        dechunker.decodeChunk("B%42")


def test_shouldFlush_takes_one_flush_request_at_a_time():
    dechunker = DataDeChunker()
    assert dechunker.shouldFlush() == 0
    dechunker._deliver("one", "flush")
    dechunker._deliver("two", "flush")
    assert dechunker.shouldFlush() == 1 and dechunker.last_message == "one"
    assert dechunker.shouldFlush() == 1 and dechunker.last_message == "two"
    assert dechunker.shouldFlush() == 0


def test_a_bytes_stream_gives_bytes_messages():
    h = ComponentHarness(DataDeChunker())
    sync = b"X" * 24
    stream = sync + b"e%58it%25" + sync + b"\x00\xff"
    for i in range(len(stream)):
        h.put(stream[i:i + 1])
        h.runUntilIdle()
    h.put(None, "flush")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"eXit%", b"\x00\xff"]


def test_a_text_file_through_DataChunker_and_DataDeChunker_in_20_character_pieces():
    rng = random.Random(1922)
    words = ["yes", "I", "said", "Stately", "plump", "Buck", "Mulligan", "X", "100%", "\n"]
    text = " ".join(rng.choice(words) for _ in range(600))
    pieces = [text[i:i + 20] for i in range(0, len(text), 20)]
    h = ComponentHarness(Pipeline(DataChunker(), DataDeChunker()))
    for piece in pieces:
        h.put(piece)
        h.runUntilIdle()
    output = h.getAll("outbox")
    assert output[0] == text[:20]
    assert output == pieces[:-1]     # the last is still waiting for a flush


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="XY%5a\n"), max_size=6),
       st.text(alphabet="XY%5a\n"),
       st.lists(st.integers(1, 9), min_size=1, max_size=20),
       st.sampled_from(["XX", "XXXX", "%%", "Ya"]))
def test_any_messages_cut_anywhere_come_back_whole_and_in_order(messages, lost, cuts, sync):
    """Joining mid-chunk too: the stream starts with the escaped end of a chunk never seen."""
    remnant = escape(lost, sync)[1:]
    stream = remnant + "".join(chunk(m, sync) for m in messages)
    h = ComponentHarness(DataDeChunker(syncmessage=sync))
    position, i = 0, 0
    while position < len(stream):
        size = cuts[i % len(cuts)]
        h.put(stream[position:position + size])
        position, i = position + size, i + 1
    h.put("end", "flush")
    h.runUntilIdle()
    assert h.getAll("outbox") == messages


def test_a_long_stream_in_many_pieces_with_many_chunks_per_piece_comes_back_whole():
    messages = [("message %d " % n) * (n % 7) for n in range(3000)] + ["x" * 200000]
    stream = b"".join(DataChunker().encodeChunk(m.encode()) for m in messages)
    h = ComponentHarness(DataDeChunker())
    for i in range(0, len(stream), 997):
        h.put(stream[i:i + 997])
        h.runUntilIdle()
    h.put("flush", "flush")
    h.runUntilIdle()
    assert h.getAll("outbox") == [m.encode() for m in messages]


def test_the_example_usage_prints_what_the_docstring_says():
    usage = Framing.__doc__.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    blocks = [re.sub(r"(?m)^    ", "", block) for block in re.findall(r"::\n\n((?:(?:    .*)?\n)+)", usage)]
    for code, output in [blocks[0:2], blocks[2:4]]:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == output.strip()


def test_the_module_documents_its_boxes_and_termination_and_lists_its_components():
    for section in ["Example Usage", "How does it work?", "Inboxes", "Outboxes", "Termination"]:
        assert section in Framing.__doc__, section
    assert Framing.__kamaelia_components__ == (Framer, DeFramer, DataChunker, DataDeChunker)
