@subject:framing
Feature: WebSocket framing of SIP messages
  A SIP WebSocket server takes one SIP message per WebSocket message, in a text or a binary
  frame, whole or fragmented (RFC 7118 §4.2, §5; RFC 6455 §5.4), and sends each of its own
  messages the same way: unmasked, with the shortest length encoding, in a binary frame when
  the message is not UTF-8. A framing violation fails the connection (RFC 6455 §7.1.7): a
  Close frame — 1002 for a protocol error, 1007 for bad UTF-8, 1009 for a message too big
  (§7.4.1; the exact code is a SHOULD, REQUIREMENTS A18) — then the TCP close, and nothing
  sent after the violation is processed. Pings get Pongs with the same bytes; a Close gets a
  Close.

  Frames are written as tables (opcode, FIN, MASK, RSV bits, payload). `register(alice)` is
  an Outbound REGISTER for this scenario's alice, like RFC 7118 §8.1 F3; `X up to 1/3`,
  `... up to 2/3` and `... the rest` cut one payload into consecutive pieces. Every Close
  frame the target sends in these scenarios is also checked: never 1005, 1006 or 1015
  (RFC 6455 §7.4.1), never a 1-byte body.

  # --- Text and binary, whole and fragmented ---------------------------------------------

  @id:register-in-text-and-binary-frames @req:6455-6.2-a @req:7118-4.2-a @level:must
  Scenario: The same REGISTER is accepted in a text frame and in a binary frame
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200
    When the client sends a binary frame carrying register(alice)
    Then the target answers the REGISTER with 200

  @id:register-in-three-fragments @req:6455-5.4-a @req:7118-5-b @level:must
  Scenario: A REGISTER fragmented over three frames, each in its own TCP write, is answered
    Given an open SIP WebSocket connection
    When the client sends these frames, one write each:
      | opcode       | fin | payload                   |
      | text         | 0   | register(alice) up to 1/3 |
      | continuation | 0   | ... up to 2/3             |
      | continuation | 1   | ... the rest              |
    Then the target answers the REGISTER with 200

  @id:binary-register-in-fragments @req:6455-5.4-a @req:6455-5.4-e @req:7118-4.2-a @level:must
  Scenario: A REGISTER in a fragmented binary message is answered
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode       | fin | payload                   |
      | binary       | 0   | register(alice) up to 1/2 |
      | continuation | 1   | ... the rest              |
    Then the target answers the REGISTER with 200

  @id:empty-first-and-last-fragments @req:6455-5.4-a @level:must
  Scenario: Empty first and last fragments do not change the message
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode       | fin | payload         |
      | text         | 0   | empty           |
      | continuation | 0   | register(alice) |
      | continuation | 1   | empty           |
    Then the target answers the REGISTER with 200

  @id:ping-between-fragments @req:6455-5.4-b @level:must
  Scenario: A Ping between two fragments of a REGISTER is answered, and the REGISTER once
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode       | fin | payload                   |
      | text         | 0   | register(alice) up to 1/2 |
      | ping         | 1   | "mid"                     |
      | continuation | 1   | ... the rest              |
    Then a Pong carrying "mid" comes back
    And the target answers the REGISTER with 200
    And no second final response to the REGISTER arrives within the timeout

  @id:utf8-character-split-across-fragments @req:6455-5.6-a @level:must
  Scenario: A text message whose "€" is split between two fragments is valid UTF-8 and accepted
    Given an open SIP WebSocket connection
    When the client sends these frames, one write each:
      | opcode       | fin | payload                                        |
      | text         | 0   | register(alice, "Zoë €") up to 1 byte into "€" |
      | continuation | 1   | ... the rest                                   |
    Then the target answers the REGISTER with 200

  # --- One SIP message per WebSocket message ------------------------------------------------

  @id:register-without-content-length @req:7118-5-d @req:3261-18.3-a @level:must
  Scenario: A REGISTER without Content-Length is answered: the WebSocket message frames it
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: nocl-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{alice}@{host};transport=ws>
      """
    Then the target answers the REGISTER from "alice" with 200

  @id:body-without-content-length @req:7118-5-d @req:3261-18.3-a @level:must @needs:two-users
  Scenario: A MESSAGE without Content-Length keeps its whole body: the rest of the WebSocket message
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends as a text frame, with the body "Hello, Alice":
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: nocl-{call-id}
      CSeq: 1 MESSAGE
      Content-Type: text/plain
      """
    Then "alice" receives the MESSAGE, in a text or a binary frame
    And the MESSAGE "alice" received has the body "Hello, Alice"

  @id:non-utf8-message-in-binary-frame @req:7118-4.2-b @level:must @needs:two-users
  Scenario: A MESSAGE whose body holds the bytes 0xFF 0xFE reaches a WebSocket client in a binary frame
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends as a binary frame, with the body hex:ff fe 00 41:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: bin-{call-id}
      CSeq: 1 MESSAGE
      Content-Type: application/octet-stream
      Content-Length: {body-length}
      """
    Then "alice" receives the MESSAGE in a binary frame
    And the MESSAGE "alice" received has the body hex:ff fe 00 41

  @id:utf8-message-frame-type @req:7118-4.2-b @level:info @needs:two-users
  Scenario: A UTF-8 MESSAGE sent in a binary frame may be relayed in either frame type (A16)
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends as a binary frame, with the body "Grüße":
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: utf8-{call-id}
      CSeq: 1 MESSAGE
      Content-Type: text/plain;charset=utf-8
      Content-Length: {body-length}
      """
    Then "alice" receives the MESSAGE, in a text or a binary frame
    And the MESSAGE "alice" received has the body "Grüße"

  @id:one-sip-message-per-ws-message @req:7118-4.1-e @req:7118-5-b @req:7118-5-c @level:must
  Scenario: Every WebSocket message from the target is exactly one SIP message
    Given an open SIP WebSocket connection "alice"
    When "alice" sends these frames, one write each:
      | opcode       | fin | payload                   |
      | text         | 0   | register(alice) up to 1/2 |
      | continuation | 1   | ... the rest              |
    And "alice" sends:
      """
      OPTIONS sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{domain}>
      Call-ID: opt-{call-id}
      CSeq: 1 OPTIONS
      Content-Length: 0
      """
    Then the target answers the REGISTER from "alice" with 200
    And the target answers the OPTIONS from "alice" with a final response
    And every WebSocket message the target sent on "alice" is exactly one SIP message

  @id:two-sip-messages-in-one-ws-message @req:7118-5-c @level:info
  Scenario: Two REGISTERs in one WebSocket message: a 400, a drop or a close are all possible (A10)
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice) + register(alice)
    Then the target's reaction is recorded: a SIP response, nothing or a close

  @id:non-sip-payload @req:7118-4.1-e @level:info
  Scenario: A WebSocket message that is not SIP: a drop, a 400 or a close are all possible (A10)
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying "Hello, this is not SIP"
    Then the target's reaction is recorded: a SIP response, nothing or a close
    And whether the connection is still open is recorded

  # --- Masking ------------------------------------------------------------------------------

  @id:unmasked-client-frame @req:6455-5.1-b @level:must
  Scenario: An unmasked REGISTER is not answered and the connection is failed (1002)
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | mask | payload         |
      | text   | no   | register(alice) |
    Then the target fails the connection
    And the close code should be 1002

  @id:server-frames-are-unmasked @req:6455-5.1-c @level:must
  Scenario: No frame the target sends is masked: SIP answers, Pongs and its Close
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200
    When the client sends a Ping frame carrying "m"
    Then a Pong carrying "m" comes back
    When the client sends a Close frame carrying code(1000)
    Then a Close frame comes back
    And no frame from the target was masked

  # --- Reserved bits and opcodes ------------------------------------------------------------

  @id:rsv1-set @req:6455-5.2-a @level:must
  Scenario: A REGISTER with RSV1 set, no extension negotiated, fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | rsv  | payload         |
      | text   | RSV1 | register(alice) |
    Then the target fails the connection
    And the close code should be 1002

  @id:rsv2-set @req:6455-5.2-a @level:must
  Scenario: A Ping with RSV2 set fails the connection instead of getting a Pong
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | rsv  | payload |
      | ping   | RSV2 | "r2"    |
    Then the target fails the connection
    And the close code should be 1002

  @id:rsv3-set @req:6455-5.2-a @level:must
  Scenario: A binary REGISTER with RSV3 set fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | rsv  | payload         |
      | binary | RSV3 | register(alice) |
    Then the target fails the connection
    And the close code should be 1002

  @id:reserved-data-opcode-0x3 @req:6455-5.2-b @level:must
  Scenario: A frame with the reserved non-control opcode 0x3 fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | payload         |
      | 0x3    | register(alice) |
    Then the target fails the connection
    And the close code should be 1002

  @id:reserved-control-opcode-0xb @req:6455-5.2-b @level:must
  Scenario: A frame with the reserved control opcode 0xB fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | payload |
      | 0xB    | "x"     |
    Then the target fails the connection
    And the close code should be 1002

  # --- Payload length encodings -------------------------------------------------------------

  @id:pong-of-125-bytes-uses-7-bit-length @req:6455-5.2-c @level:must
  Scenario: A 125-byte Pong is sent with the 7-bit length form
    Given an open SIP WebSocket connection whose raw bytes are recorded
    When the client sends a Ping frame carrying repeat(125, "L")
    Then a Pong carrying the last Ping's payload comes back
    And the target sent the client a 125-byte frame in the 7-bit length form

  @id:sip-answers-use-shortest-length @req:6455-5.2-c @level:must
  Scenario: SIP answers of a few hundred bytes use the shortest length form (16-bit)
    Given an open SIP WebSocket connection whose raw bytes are recorded
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200
    And every frame the target sent to the client uses the shortest length encoding

  @id:relayed-65535-bytes-uses-16-bit-length @req:6455-5.2-c @level:must @needs:two-users
  Scenario: A MESSAGE relayed as exactly 65535 bytes uses the 16-bit length form
    Given an open SIP WebSocket connection "alice" whose raw bytes are recorded
    And "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends "alice" a MESSAGE that reaches her as 65535 bytes
    Then the target sent "alice" a 65535-byte frame in the 16-bit length form
    And every frame the target sent on "alice" uses the shortest length encoding

  @id:relayed-65536-bytes-uses-64-bit-length @req:6455-5.2-c @level:must @needs:two-users
  Scenario: A MESSAGE relayed as exactly 65536 bytes uses the 64-bit length form
    Given an open SIP WebSocket connection "alice" whose raw bytes are recorded
    And "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends "alice" a MESSAGE that reaches her as 65536 bytes
    Then the target sent "alice" a 65536-byte frame in the 64-bit length form
    And every frame the target sent on "alice" uses the shortest length encoding

  @id:non-minimal-length-received @req:6455-5.2-c @level:info
  Scenario: A REGISTER whose length uses the 64-bit form needlessly: accepted or refused, recorded
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | length | payload         |
      | text   | 64-bit | register(alice) |
    Then the target's reaction is recorded: a SIP response, nothing or a close

  @id:length-with-top-bit-set @req:6455-5.2-c @level:info
  Scenario: A 64-bit length with its most significant bit set: the target's reaction is recorded
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | length                        | payload |
      | binary | declares 9223372036854775813 | "hello" |
    Then the target's reaction is recorded: a SIP response, nothing or a close

  # --- Fragmentation rules ------------------------------------------------------------------

  @id:fragmented-ping @req:6455-5.4-c @level:must
  Scenario: A Ping with FIN=0 (a fragmented control frame) fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | fin | payload |
      | ping   | 0   | "p1"    |
    Then the target fails the connection
    And the close code should be 1002

  @id:continuation-without-message @req:6455-5.4-d @level:must
  Scenario: A continuation frame with no message started fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode       | fin | payload         |
      | continuation | 1   | register(alice) |
    Then the target fails the connection
    And the close code should be 1002

  @id:new-message-inside-fragmented-message @req:6455-5.4-d @level:must
  Scenario: A new text frame while a fragmented message is open fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | fin | payload                   |
      | text   | 0   | register(alice) up to 1/2 |
      | text   | 1   | register(bob)             |
    Then the target fails the connection
    And the close code should be 1002

  # --- Control frames -----------------------------------------------------------------------

  @id:ping-of-126-bytes @req:6455-5.5-a @level:must
  Scenario: A Ping with a 126-byte payload fails the connection instead of getting a Pong
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying repeat(126, "P")
    Then the target fails the connection
    And the close code should be 1002

  @id:close-with-1-byte-body @req:6455-5.5.1-a @level:must
  Scenario: A Close whose body is 1 byte (no room for a status code) fails the connection
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying hex:03
    Then the target fails the connection
    And the close code should be 1002

  @id:close-with-invalid-utf8-reason @req:6455-5.5.1-a @level:must
  Scenario: A Close whose reason is not UTF-8 fails the connection (1007)
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1000) + hex:c0 af
    Then the target fails the connection
    And the close code should be 1007

  @id:close-is-answered @req:6455-5.5.1-b @level:must
  Scenario: A Close 1000 gets a Close back
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1000) + "bye"
    Then a Close frame comes back

  @id:empty-close-is-answered-without-1005 @req:6455-5.5.1-b @req:6455-7.4.1-a @level:must
  Scenario: A Close without a status code gets a Close back that does not carry 1005
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying nothing
    Then a Close frame comes back
    And no Close frame from the target carries 1005, 1006 or 1015

  @id:close-1005-is-not-echoed @req:6455-7.4.1-a @level:must
  Scenario: A Close carrying the reserved code 1005 is never echoed with 1005
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1005)
    Then the target closes the TCP connection
    And no Close frame from the target carries 1005, 1006 or 1015

  @id:close-1006-is-not-echoed @req:6455-7.4.1-a @level:must
  Scenario: A Close carrying the reserved code 1006 is never echoed with 1006
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1006)
    Then the target closes the TCP connection
    And no Close frame from the target carries 1005, 1006 or 1015

  @id:no-data-after-close @req:6455-5.5.1-c @level:must
  Scenario: A REGISTER and a Close in one write: the target's answer, if any, comes before its Close
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | payload         |
      | text   | register(alice) |
      | close  | code(1000)      |
    Then a Close frame comes back
    And no data frame follows the target's Close

  @id:tcp-closed-after-close-exchange @req:6455-5.5.1-d @level:must
  Scenario: After the Close exchange the server closes the TCP connection
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1000)
    Then a Close frame comes back
    And the target closes the TCP connection

  @id:ping-gets-pong @req:6455-5.5.2-a @level:must
  Scenario: Ping "x1" gets Pong "x1"
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying "x1"
    Then a Pong carrying "x1" comes back

  @id:empty-ping-gets-empty-pong @req:6455-5.5.2-a @req:6455-5.5.3-a @level:must
  Scenario: A Ping with no payload gets a Pong with no payload
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying nothing
    Then a Pong carrying nothing comes back

  @id:pong-echoes-125-arbitrary-bytes @req:6455-5.5.3-a @level:must
  Scenario: A Ping with 125 arbitrary bytes, not UTF-8, gets a Pong with the same 125 bytes
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying repeat(125, hex:00 ff 80 c0 af 0d 0a 7f 41)
    Then a Pong carrying the last Ping's payload comes back

  @id:three-pings-back-to-back @req:6455-5.5.3-b @req:6455-5.5.2-a @level:must
  Scenario: Three Pings in one write: at least the last one is answered
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | payload |
      | ping   | "p1"    |
      | ping   | "p2"    |
      | ping   | "p3"    |
    Then a Pong carrying "p3" comes back

  @id:unsolicited-pong-is-ignored @req:6455-5.5.3-b @level:must
  Scenario: An unsolicited Pong needs no answer and the connection keeps working
    Given an open SIP WebSocket connection
    When the client sends a Pong frame carrying "unasked"
    Then the connection is still open
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200

  # --- UTF-8 in text messages ---------------------------------------------------------------

  @id:invalid-utf8-text @req:6455-7.4.1-b @req:6455-5.6-a @level:must
  Scenario: A text frame holding 0xC0 0xAF (an overlong "/") fails the connection (1007)
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying hex:c0 af
    Then the target fails the connection
    And the close code should be 1007

  @id:invalid-utf8-in-continuation @req:6455-5.6-a @level:must
  Scenario: A surrogate (0xED 0xA0 0x80) in the second fragment of a text message fails the connection
    Given an open SIP WebSocket connection
    When the client sends these frames, one write each:
      | opcode       | fin | payload                                   |
      | text         | 0   | "REGISTER sip:example.com SIP/2.0" + CRLF |
      | continuation | 1   | "Subject: " + hex:ed a0 80                |
    Then the target fails the connection
    And the close code should be 1007

  @id:invalid-utf8-in-a-sip-header-value @req:6455-5.6-a @level:must
  Scenario: A valid REGISTER whose Subject holds invalid UTF-8, in a text frame, fails the connection (1007)
    RFC 6455 §8.1: an endpoint that finds a text message is not valid UTF-8 MUST fail the
    connection, however well the bytes parse as SIP; a server that only refuses what is not SIP
    at all would answer this REGISTER.
    Given an open SIP WebSocket connection
    When the client sends alice's REGISTER with invalid UTF-8 in its Subject, in a text frame
    Then the target fails the connection
    And the close code should be 1007

  @id:invalid-utf8-in-a-sip-body @req:6455-5.6-a @level:must
  Scenario: A valid REGISTER whose text/plain body holds invalid UTF-8, in a text frame, fails the connection (1007)
    Given an open SIP WebSocket connection
    When the client sends alice's REGISTER with invalid UTF-8 in its body, in a text frame
    Then the target fails the connection
    And the close code should be 1007

  @id:utf8-cut-at-message-end @req:6455-5.6-a @level:must
  Scenario: A text message ending in the middle of a character fails the connection
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying "caf" + hex:c3
    Then the target fails the connection
    And the close code should be 1007

  # --- Failing the connection and size limits -----------------------------------------------

  @id:nothing-processed-after-a-violation @req:6455-7.1.7-a @level:must
  Scenario: A valid REGISTER in the same TCP write right after a violation is not answered
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | payload         |
      | 0x3    | "x"             |
      | text   | register(alice) |
    Then the target fails the connection

  @id:header-announcing-2-62-bytes @req:6455-10.4-a @level:must
  Scenario: A frame header announcing 2^62 bytes fails the connection (1009), and the server serves on
    Given an open SIP WebSocket connection
    When the client streams a frame header announcing 2^62 bytes, then up to 16 MiB of payload
    Then the target fails the connection
    And the close code should be 1009
    And the target still accepts a new SIP WebSocket connection and answers its REGISTER with 200

  @id:sixteen-mib-fragmented-message @req:6455-10.4-a @level:must
  Scenario: A 16 MiB message in 16 KiB fragments meets the target's size limit (1009) or fits under it, and the server serves on
    Given an open SIP WebSocket connection
    When the client streams a 16 MiB binary message in 16 KiB fragments
    Then the target fails the connection at its size limit, with 1009 as it should, or takes the whole message
    And the target still accepts a new SIP WebSocket connection and answers its REGISTER with 200

  # --- SIP transactions over a reliable transport -------------------------------------------

  @id:final-response-not-retransmitted @req:7118-5-a @req:3261-17-a @level:must
  Scenario: The final response to an INVITE is not retransmitted over WebSocket while the ACK is withheld
    Given an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      INVITE sip:nobody-{call-id}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:nobody-{call-id}@{domain}>
      Call-ID: inv-{call-id}
      CSeq: 1 INVITE
      Contact: <sip:{bob}@{host};transport=ws>
      Content-Length: 0
      """
    Then the target answers the INVITE from "bob" with a final response
    And no second final response to the INVITE from "bob" arrives within the timeout

  @id:relayed-final-response-not-retransmitted @req:7118-5-a @req:3261-17-a @level:must @needs:two-users
  Scenario: A 486 relayed from the callee is sent to the caller once while the ACK is withheld
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      INVITE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: busy-{call-id}
      CSeq: 1 INVITE
      Contact: <sip:{bob}@{host};transport=ws>
      Content-Length: 0
      """
    And "alice" receives an INVITE request
    And "alice" answers 486
    Then the target answers the INVITE from "bob" with 486
    And no second final response to the INVITE from "bob" arrives within the timeout
