@subject:keepalive
Feature: Keeping a SIP WebSocket connection alive
  RFC 7118 §6 lets either side keep the connection open with WebSocket Ping frames (RFC 6455
  §5.5.2: a Ping gets a Pong with the same bytes) or with the CRLF keep-alive of RFC 5626
  §3.5.1, without a keyword for either (REQUIREMENTS A7). Over WebSocket the CRLF ping is a
  WebSocket message holding CRLF CRLF; browsers can only send that one. An Outbound edge
  proxy answers it at once with a message holding a single CRLF (RFC 5626 §5.4): required of
  a target that claims Outbound, recorded for the others.

  # --- CRLF keep-alive ----------------------------------------------------------------------

  @id:crlf-keepalive-answered @req:5626-5.4-a @req:7118-6-b @level:must @needs:outbound
  Scenario: An Outbound edge answers a CRLF CRLF message with a CRLF message
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying CRLF CRLF
    Then the target answers the keep-alive with a CRLF message
    And the connection is still open

  @id:crlf-keepalive-recorded @req:7118-6-b @level:info
  Scenario: What any target does with a CRLF CRLF message: a CRLF, nothing or a close (A7)
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying CRLF CRLF
    Then the target's answer to the keep-alive is recorded: CRLF, nothing or a close
    And whether the connection is still open is recorded

  @id:crlf-keepalive-between-sip-messages @req:5626-5.4-a @req:5626-6-e @level:must @needs:outbound
  Scenario: A CRLF keep-alive between two REGISTERs on the same flow is answered, and the flow keeps working
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200
    When the client sends a text frame carrying CRLF CRLF
    Then the target answers the keep-alive with a CRLF message
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200

  @id:fragmented-crlf-keepalive @req:5626-5.4-a @req:6455-5.4-a @level:must @needs:outbound
  Scenario: CRLF CRLF split over two fragments is still one keep-alive message
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode       | fin | payload |
      | text         | 0   | CRLF    |
      | continuation | 1   | CRLF    |
    Then the target answers the keep-alive with a CRLF message

  @id:crlf-keepalive-in-binary-frame @req:7118-6-b @level:info
  Scenario: CRLF CRLF in a binary frame: the target's answer is recorded
    Given an open SIP WebSocket connection
    When the client sends a binary frame carrying CRLF CRLF
    Then the target's answer to the keep-alive is recorded: CRLF, nothing or a close

  @id:lone-crlf-recorded @req:7118-6-b @level:info
  Scenario: A lone CRLF message (an unsolicited pong in RFC 5626 terms): the target's reaction is recorded
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying CRLF
    Then the target's reaction is recorded: a SIP response, nothing or a close
    And whether the connection is still open is recorded

  # --- WebSocket Ping and Pong --------------------------------------------------------------

  @id:ws-ping-keepalive @req:7118-6-a @req:6455-5.5.2-a @level:must
  Scenario: A WebSocket Ping "ka" gets a Pong "ka"
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying "ka"
    Then a Pong carrying "ka" comes back
    And the connection is still open

  @id:ws-ping-on-registered-flow @req:7118-6-a @req:6455-5.5.2-a @level:must @needs:two-users
  Scenario: A Ping on a registered flow is answered and requests still reach the client on it
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "alice" sends a Ping frame carrying "ka"
    Then a Pong carrying "ka" comes back on "alice"
    When "bob" sends as a text frame, with the body "still there?":
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: ka-{call-id}
      CSeq: 1 MESSAGE
      Content-Type: text/plain
      Content-Length: {body-length}
      """
    Then "alice" receives the MESSAGE, in a text or a binary frame

  @id:server-pings-idle-connection @req:7118-6-a @level:info
  Scenario: Whether the target pings an idle connection on its own is recorded
    Given an open SIP WebSocket connection
    Then whether the target pings an idle connection within the timeout is recorded
