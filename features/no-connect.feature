@subject:no-connect
Feature: A SIP WebSocket server never connects to a client, and fails fast for a dead flow
  A WebSocket client cannot accept connections, so the only way to it is the connection it
  opened (RFC 7118 §5, Appendix B; RFC 5626 §7). When that connection is gone the server
  answers at once with a final error — 480 once the bindings are invalidated (RFC 3261 §16.5,
  RFC 5626 §7), 430 for a request addressed by the dead flow's token (RFC 5626 §5.3.1) —
  and never dials the address the client advertised (REQUIREMENTS A9). Responses go back on
  the connection the request arrived on, whatever its Via says (RFC 3261 §18.2.2).

  A listener of the harness stands in for the client's address: a TCP listener and a UDP
  socket on one port, which must see nothing.

  @id:dead-contact-invite @req:5626-7-d @req:3261-16.5-a @level:must @needs:two-users
  Scenario: After alice's connection closes, an INVITE for her fails fast and her address is never dialled
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends, with routing placeholders:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{alice}@{listener};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice" closes its connection
    And "bob" sends:
      """
      INVITE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Contact: <sip:{bob}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives a final error response within the timeout
    And the listener sees no connection attempt

  @id:dead-contact-message @req:5626-7-d @req:3261-16.5-a @level:must @needs:two-users
  Scenario: After alice's Outbound connection closes, a MESSAGE for her fails fast and her address is never dialled
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends, with routing placeholders:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{listener};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000a9a9>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice" closes its connection
    And "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "bob" receives a final error response within the timeout
    And the listener sees no connection attempt

  @id:dead-contact-status @req:3261-16.5-a @req:5626-7-d @level:info @needs:two-users
  Scenario: The error for a user whose only flow is gone is 480 (or 430 from a flow-token edge)
    Given an open SIP WebSocket connection "alice"
    And "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "alice" closes its connection
    And "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a final error response within the timeout
    And the final status is 480 or 430

  @id:dead-contact-uri-not-dialled @req:5626-7-d @level:must @needs:two-users
  Scenario: A request addressed to the very Contact of a closed WebSocket flow is not dialled
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends, with routing placeholders:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{alice}@{listener};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice" closes its connection
    And "bob" sends, with routing placeholders:
      """
      MESSAGE sip:{alice}@{listener};transport=ws SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a final error response within the timeout
    And the listener sees no connection attempt

  @id:live-contact-uses-the-connection @req:5626-7-c @level:must @needs:two-users
  Scenario: While alice is connected, a request for her arrives on her connection, not at her advertised address
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends, with routing placeholders:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{alice}@{listener};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice" receives a MESSAGE request
    And the listener sees no connection attempt

  @id:invalid-host-ws-uri @req:7118-B.1-a @req:3261-16.5-a @level:must
  Scenario: A request for a .invalid host with transport=ws gets a final error at once
    Given an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      MESSAGE sip:x@nowhere{n}.invalid;transport=ws SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:x@nowhere.invalid>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a final error response within the timeout

  @id:unknown-ws-uri-not-dialled @req:7118-5.5-b @level:info
  Scenario: A transport=ws URI that names no connected client is not dialled (a proxy may act as a WS client)
    Given a listener standing in for "someone"'s address
    And an open SIP WebSocket connection "bob"
    When "bob" sends, with routing placeholders:
      """
      MESSAGE sip:someone@{listener};transport=ws SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:someone@{listener}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a final error response within the timeout
    And the listener sees no connection attempt

  @id:closed-flow-token-430 @req:5626-5.3.1-b @level:must @needs:two-users @needs:flow-token
  Scenario: A BYE routed by the flow token of alice's closed connection gets 430 Flow Failed
    Given an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Supported: outbound
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    And the INVITE "bob" received carries a Record-Route of the target
    When "bob" accepts the INVITE
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then "bob" receives an ACK request
    When "alice" closes its connection
    And "bob" sends BYE in the dialog
    Then "bob" receives the answer for a flow that is gone, routed by its flow token

  @id:tampered-flow-token-403 @req:5626-5.3.1-b @req:5626-5.2-a @level:should @needs:two-users @needs:flow-token
  Scenario: A BYE whose flow token has one character changed gets 403 and reaches no one
    Given an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Supported: outbound
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    When "bob" accepts the INVITE
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then "bob" receives an ACK request
    When "bob" sends BYE in the dialog with one character of the flow token changed
    Then "bob" receives a final response with status 403
    And nothing arrives on "alice" within the timeout

  @id:response-lost-no-reconnect @req:3261-18.2.2-b @level:info @needs:two-users
  Scenario: A response for a caller whose connection is gone is dropped, not delivered by dialling its Via
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends, with routing placeholders:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {listener};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Contact: <sip:{alice}@{listener};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    When "alice" closes its connection
    And "bob" answers 486
    Then the listener sees no connection attempt

  @id:response-on-arrival-connection @req:3261-18.2.2-a @level:must
  Scenario: The response to a request goes back on the connection it came in on, not on alice's registered one
    Given "alice" is registered
    And an open SIP WebSocket connection "alice2"
    When "alice2" sends:
      """
      MESSAGE sip:{carol}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice2" receives a final response within the timeout
    And nothing arrives on "alice" within the timeout

  @id:response-ignores-via-of-other-connection @req:3261-18.2.2-a @level:must
  Scenario: A Via naming the host of alice's registered connection does not divert the response
    Given "alice" is registered
    And an open SIP WebSocket connection "alice2"
    When "alice2" sends, with routing placeholders:
      """
      MESSAGE sip:{carol}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host:alice};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice2" receives a final response within the timeout
    And nothing arrives on "alice" within the timeout

  @id:response-ignores-udp-via @req:3261-18.2.2-a @req:3581-4-b @level:must
  Scenario: A Via with the wrong transport (UDP) on a WebSocket connection still gets its response on the connection
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{carol}@{domain} SIP/2.0
      Via: SIP/2.0/UDP {listener};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice" receives a final response within the timeout
    And the listener sees no connection attempt

  @id:response-ignores-tcp-via @req:3261-18.2.2-a @level:must
  Scenario: A Via naming a TCP address on a WebSocket connection still gets its response on the connection
    Given a listener standing in for "alice"'s address
    And an open SIP WebSocket connection "alice"
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{carol}@{domain} SIP/2.0
      Via: SIP/2.0/TCP {listener};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice" receives a final response within the timeout
    And the listener sees no connection attempt
