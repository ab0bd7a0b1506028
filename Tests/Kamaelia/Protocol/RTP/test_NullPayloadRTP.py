"""Kamaelia.Protocol.RTP.NullPayloadRTP: the 4-byte big-endian length prefix, chunking at
chunksize, playback timestamps from the bit rate, the mainBody return codes in 1.x's order,
shutdown draining what is buffered, and bytes data giving bytes chunks.
"""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Protocol.RTP import NullPayloadRTP
from Kamaelia.Protocol.RTP.NullPayloadRTP import NullPayloadPreFramer, packLengthAsString


def framer(**argd):
    """A framer whose "output" is collected (not activated: driven by calling its methods)."""
    f = NullPayloadPreFramer("test source", **argd)
    return f, ComponentHarness(f, activate=False)


# -- packLengthAsString / makeChunk ------------------------------------------------------


def test_packLengthAsString_is_the_big_endian_bytes_as_characters():
    n = (ord("A") << 24) + (ord("B") << 16) + (ord("C") << 8) + ord("D")
    assert packLengthAsString(n) == "ABCD"
    assert packLengthAsString(0) == "\x00\x00\x00\x00"
    assert packLengthAsString(0xFFFFFFFF) == "\xff\xff\xff\xff"


@pytest.mark.parametrize("n", [-1, 1 << 32])
def test_a_length_that_does_not_fit_in_32_bits_is_refused(n):
    with pytest.raises(ValueError):
        packLengthAsString(n)


@pytest.mark.parametrize("length, prefix", [
    (0, "\x00\x00\x00\x00"),
    (0x0304, "\x00\x00\x03\x04"),
    (0x01020000, "\x01\x02\x00\x00"),
    (0x01020304, "\x01\x02\x03\x04"),
])
def test_makeChunk_puts_the_payload_length_in_front(length, prefix):
    f, _ = framer()
    data = "A" * length
    chunk = f.makeChunk(data)
    assert chunk[:4] == prefix
    assert chunk[4:] == data


def test_makeChunk_of_bytes_is_bytes():
    f, _ = framer()
    assert f.makeChunk(b"\x01\x02\x03") == b"\x00\x00\x00\x03\x01\x02\x03"
    assert f.makeChunk(bytearray(b"ab")) == b"\x00\x00\x00\x02ab"


# -- construction ---------------------------------------------------------------------------


def test_constructor_sets_the_1x_attributes():
    f = NullPayloadPreFramer("mic")
    assert (f.sourcename, f.sourcebitrate, f.sourceoctetrate, f.chunksize) == ("mic", 65536,
                                                                               8192.0, 1400)
    assert (f.currentchunk, f.timestamp, f._dataSent, f.quitFlag) == ("", 0, 0, False)
    g = NullPayloadPreFramer("line", sourcebitrate=800, chunksize=10)
    assert (g.sourceoctetrate, g.chunksize) == (100.0, 10)


def test_boxes_are_recvsrc_control_and_output_only():
    f = NullPayloadPreFramer("mic")
    assert sorted(f.inboxes) == ["control", "recvsrc"]
    assert sorted(f.outboxes) == ["output"]
    assert NullPayloadRTP.__kamaelia_components__ == (NullPayloadPreFramer,)


def test_initialiseComponent_returns_1_and_closeDownComponent_None():
    f = NullPayloadPreFramer("mic")
    assert f.initialiseComponent() == 1
    assert f.closeDownComponent() is None


# -- timestamps -------------------------------------------------------------------------------


def test_updateTimestamp_counts_all_data_sent_so_far():
    f, _ = framer(sourcebitrate=8000)             # 1000 bytes a second
    f.updateTimestamp("A" * 250)
    assert f.timestamp == 0.25
    f.updateTimestamp("A" * 500)
    assert (f._dataSent, f.timestamp) == (750, 0.75)


def test_each_chunk_carries_the_time_of_its_first_byte():
    f, h = framer()
    f.currentchunk = "A" * (3 * f.chunksize)
    for _ in range(3):
        assert f.sendCurrentChunk() == 1
    stamps = [stamp for stamp, _ in h.getAll("output")]
    assert stamps == [0, f.chunksize / 8192.0, 2 * f.chunksize / 8192.0]


# -- sendCurrentChunk -------------------------------------------------------------------------


def test_a_short_buffer_is_not_sent_unless_partial_is_allowed():
    f, h = framer()
    f.currentchunk = "A" * (f.chunksize - 1)
    assert f.sendCurrentChunk() == 0
    assert h.getAll("output") == []
    assert f.currentchunk == "A" * (f.chunksize - 1)


def test_a_full_buffer_sends_exactly_one_chunk():
    f, h = framer()
    f.currentchunk = "A" * f.chunksize + "B"
    assert f.sendCurrentChunk() == 1
    assert h.getAll("output") == [(0, packLengthAsString(f.chunksize) + "A" * f.chunksize)]
    assert f.currentchunk == "B"


def test_partial_sends_what_there_is():
    f, h = framer()
    f.currentchunk = "A" * (f.chunksize // 2)
    assert f.sendCurrentChunk(sendpartial=True) == 1
    assert h.getAll("output") == [(0, packLengthAsString(700) + "A" * 700)]
    assert f.currentchunk == ""
    assert f.timestamp == 700 / 8192.0


def test_partial_on_an_empty_buffer_sends_an_empty_chunk():
    f, h = framer()
    assert f.sendCurrentChunk(sendpartial=True) == 1
    assert h.getAll("output") == [(0, "\x00\x00\x00\x00")]


# -- handleShutdown / handleControl -------------------------------------------------------------


def test_handleShutdown_with_nothing_buffered_returns_0():
    f, h = framer()
    assert f.handleShutdown() == 0
    assert h.getAll("output") == []


@pytest.mark.parametrize("size, codes, lengths", [
    (1, [2, 0], [1]),
    (1400, [2, 0], [1400]),
    (2800, [2, 2, 0], [1400, 1400]),
    (5 * 1400 + 1, [2] * 6 + [0], [1400] * 5 + [1]),
])
def test_handleShutdown_sends_what_is_left_a_chunk_at_a_time(size, codes, lengths):
    f, h = framer()
    f.currentchunk = "A" * size
    assert [f.handleShutdown() for _ in codes] == codes
    chunks = [chunk for _, chunk in h.getAll("output")]
    assert [len(chunk) - 4 for chunk in chunks] == lengths
    assert "".join(chunk[4:] for chunk in chunks) == "A" * size


def test_handleControl_is_True_only_for_a_shutdown_request_and_consumes_the_message():
    f, _ = framer()
    assert f.handleControl() is False                     # nothing there
    f._deliver("garbage", "control")
    assert f.handleControl() is False
    assert f.dataReady("control") == 0
    f._deliver("shutdown", "control")
    assert f.handleControl() is True
    assert f.dataReady("control") == 0


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_handleControl_also_accepts_axon_shutdown_messages(message):
    f, _ = framer()
    f._deliver(message, "control")
    assert f.handleControl() is True


# -- mainBody ------------------------------------------------------------------------------------


def test_mainBody_does_one_thing_per_call_in_1x_order():
    f, h = framer(chunksize=4)
    codes = [f.mainBody()]                    # 5: nothing to do
    f.currentchunk = "AAAA"
    codes.append(f.mainBody())                # 1: a full chunk
    f._deliver("BBBBB", "recvsrc")
    codes += [f.mainBody(), f.mainBody()]     # 3: took it; 1: sent BBBB
    codes.append(f.mainBody())                # 5: "B" is not a full chunk
    f._deliver("CCC", "recvsrc")
    codes += [f.mainBody(), f.mainBody()]     # 3; 1: sent BCCC
    codes.append(f.mainBody())                # 5
    f._deliver("DD", "recvsrc")
    f._deliver("garbage", "control")
    codes += [f.mainBody(), f.mainBody()]     # 3: took DD; 4: garbage, ignored
    assert f.quitFlag is False
    f._deliver("shutdown", "control")
    codes.append(f.mainBody())                # 4
    assert f.quitFlag is True
    codes += [f.mainBody() for _ in range(4)]  # 2: sent DD; then 0, 0, 0
    assert codes == [5, 1, 3, 1, 5, 3, 1, 5, 3, 4, 4, 2, 0, 0, 0]
    assert [chunk for _, chunk in h.getAll("output")] == [
        "\x00\x00\x00\x04AAAA", "\x00\x00\x00\x04BBBB", "\x00\x00\x00\x04BCCC",
        "\x00\x00\x00\x02DD"]


def test_a_full_chunk_goes_before_a_shutdown_is_looked_at():
    f, h = framer(chunksize=2)
    f._deliver("AAAAA", "recvsrc")
    f._deliver("shutdown", "control")
    codes = [f.mainBody() for _ in range(7)]
    assert codes == [3, 1, 1, 4, 2, 0, 0]
    assert [chunk[4:] for _, chunk in h.getAll("output")] == ["AA", "AA", "A"]


def test_driven_by_hand_with_next():
    f = NullPayloadPreFramer("mic", chunksize=3)
    h = ComponentHarness(f)                   # activated, but stepped by hand below
    assert f.next() == 1                      # initialiseComponent
    f._deliver("abc", "recvsrc")
    assert [f.next(), f.next()] == [3, 1]
    f._deliver("shutdown", "control")
    assert f.next() == 4
    assert f.next() is None                   # mainBody gave 0: closeDownComponent's result
    with pytest.raises(StopIteration):
        f.next()
    assert h.getAll("output") == [(0, "\x00\x00\x00\x03abc")]


# -- as a running component ---------------------------------------------------------------------


def test_bytes_in_awkward_pieces_come_out_as_bytes_chunks_with_timestamps():
    f = NullPayloadPreFramer("mic", sourcebitrate=80, chunksize=4)   # 10 bytes a second
    h = ComponentHarness(f)
    for piece in [b"a", b"bcdef", b"", b"gh", b"ij"]:
        h.put(piece, "recvsrc")
        h.runUntilIdle()
    assert h.getAll("output") == [(0, b"\x00\x00\x00\x04abcd"),
                                  (0.4, b"\x00\x00\x00\x04efgh")]
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.getAll("output") == [(0.8, b"\x00\x00\x00\x02ij")]
    assert h.finished


def test_it_sleeps_when_there_is_nothing_to_do():
    h = ComponentHarness(NullPayloadPreFramer("mic"))
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished
    h.put("x" * 1400, "recvsrc")
    h.runUntilIdle()
    assert h.getAll("output") == [(0, packLengthAsString(1400) + "x" * 1400)]
