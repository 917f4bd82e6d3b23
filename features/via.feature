@subject:via
Feature: Via headers over SIP WebSocket
  RFC 7118 §5.1 adds the Via transport tokens "WS" (plain WebSocket) and "WSS" (WebSocket over
  TLS); the ABNF literal is case-insensitive. A proxy's own Via names the hop it sends on
  (RFC 7118 §8.2 F9) with a fresh RFC 3261 branch (§16.6 item 8). A WebSocket server may leave
  "received" out of a WS Via (RFC 7118 §5.3) although RFC 3581 §4 wants it with "rport" (A8).
  Browser clients use random ".invalid" hosts in Via and Contact (RFC 7118 Appendix B.1).

  @id:target-via-towards-wss-is-wss @req:7118-5.1-a @level:must @needs:wss @needs:two-users
  Scenario: The target's Via on a request it sends down a WSS connection says WSS
    Given "alice" is registered over WSS
    And an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "alice" receives a MESSAGE whose top Via transport is "WSS"

  @id:target-via-towards-ws-is-ws @req:7118-5.1-a @level:must @needs:wss @needs:two-users
  Scenario: The target's Via on a request it sends down a WS connection says WS, whatever the sender used
    Given "alice" is registered over WS
    And an open secure SIP WebSocket connection "bob"
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "alice" receives a MESSAGE whose top Via transport is "WS"

  @id:target-via-has-a-fresh-branch @req:3261-16.6-d @level:must @needs:two-users
  Scenario: The target adds its own Via with a fresh z9hG4bK branch above the sender's
    Given "alice" is registered over WS
    And an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "alice" receives a MESSAGE whose top Via transport is "WS"
    And the request "alice" received has a fresh z9hG4bK branch in its top Via
    And the request "alice" received keeps the Via of "bob" below the target's own

  @id:lower-case-wss-token-is-accepted @req:7118-5.1-b @level:must @needs:wss
  Scenario: A REGISTER over WSS whose Via says "SIP/2.0/wss" is accepted
    Given an open secure SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/wss {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200

  @id:lower-case-ws-token-is-accepted @req:7118-5.1-b @level:must
  Scenario: A REGISTER over WS whose Via says "SIP/2.0/ws" is accepted
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/ws {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200

  @id:received-on-a-ws-via-is-recorded @req:7118-5.3-a @req:3261-18.2.1-a @level:info
  Scenario: Whether the target adds "received" to a WS Via with a host name sent-by is recorded
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And whether the response's top Via carries "received" is recorded

  @id:rport-gets-received-and-rport @req:3581-4-a @level:should
  Scenario: A WS Via with a value-less rport comes back with rport and received filled in (A8)
    RFC 3581 §4 applies "independent of the transport"; RFC 7118 §5.3 only relaxes "received"
    and is silent on rport, so this is graded as a SHOULD.
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};rport;branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's top Via has "rport" and "received" filled in

  @id:invalid-hosts-register @req:7118-B.1-a @level:must
  Scenario: A REGISTER whose Via sent-by and Contact host are random ".invalid" names is accepted
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" has the parameter "expires"

  @id:invalid-hosts-message @req:7118-B.1-a @level:must @needs:two-users
  Scenario: A MESSAGE between two clients with ".invalid" hosts is delivered and answered
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Contact: <sip:{bob}@{host};transport=ws>
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "alice" receives a MESSAGE request
    And "alice" answers 200
    And "bob" receives a response with status 200

  @id:keep-is-recorded @req:6223-4.3-a @level:info
  Scenario: Whether the target grants keep-alives asked for with "keep" in the Via is recorded
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch};keep
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And whether the response's top Via grants "keep" is recorded
