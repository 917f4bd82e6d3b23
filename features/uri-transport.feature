@subject:uri-transport
Feature: transport=ws and transport=wss in the URIs a SIP WebSocket server reads and writes
  RFC 7118 §5.2 defines one URI parameter value, `transport=ws`, for both WebSocket
  transports; security is meant to come from `sips:` (§9.2: a `sips:` request never takes a
  plain WS hop). The field also writes `transport=wss` (REQUIREMENTS A1). A server should
  accept both, in any case, in a Contact and in a Route, and write `transport=ws` (or `wss`,
  recorded) in the Record-Route URIs it emits for WebSocket hops.

  @id:contact-ws-delivered @req:7118-5.2-a @req:5626-7-c @level:must @needs:two-users
  Scenario: A Contact with transport=ws is registered and reached over the registering connection
    Given "bob" is registered
    And an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request

  @id:contact-wss-accepted @req:7118-5.2-a @level:should @needs:wss @needs:two-users
  Scenario: A Contact with transport=wss (A1) registered over WSS is accepted and reached
    Given an open secure SIP WebSocket connection "bob"
    And an open SIP WebSocket connection "alice"
    When "bob" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{bob}@{host};transport=wss>
      Content-Length: 0
      """
    Then "bob" receives a response with status 200
    When "alice" sends:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request

  @id:contact-ws-upper-case @req:7118-5.2-a @level:should @needs:two-users
  Scenario: A Contact with transport=WS in upper case is accepted and reached
    Given an open SIP WebSocket connection "bob"
    And an open SIP WebSocket connection "alice"
    When "bob" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sip:{bob}@{host};transport=WS>
      Content-Length: 0
      """
    Then "bob" receives a response with status 200
    When "alice" sends:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request

  @id:request-uri-is-the-ws-contact @req:7118-5.2-a @req:5626-7-c @level:must @needs:two-users
  Scenario: A request whose Request-URI is bob's registered transport=ws Contact reaches his connection
    Given "bob" is registered
    And an open SIP WebSocket connection "alice"
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{bob}@{host:bob};transport=ws SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request

  @id:route-ws-on-wss-port @req:7118-5.2-a @req:3261-16.4-a @level:must @needs:wss @needs:two-users
  Scenario: A Route naming the WSS endpoint with sip: and transport=ws, as RFC 7118 §8.2 F1 writes it, is consumed
    Given an open secure SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      Route: <sip:{target-wss};transport=ws;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request
    And the MESSAGE "bob" received has no Route header

  @id:route-wss-accepted @req:7118-5.2-a @req:3261-16.4-a @level:should @needs:wss @needs:two-users
  Scenario: A Route naming the WSS endpoint with transport=wss (A1) is consumed
    Given an open secure SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      Route: <sip:{target-wss};transport=wss;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request
    And the MESSAGE "bob" received has no Route header

  @id:sips-not-over-plain-ws @req:7118-9.2-a @level:must @needs:wss @needs:two-users
  Scenario: A sips: request for a user registered over plain WS is not delivered over that connection
    Given "bob" is registered
    And an open secure SIP WebSocket connection "alice"
    When "alice" sends:
      """
      MESSAGE sips:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sips:{alice}@{domain}>;tag={tag}
      To: <sips:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then nothing arrives on "bob" within the timeout
    And "alice" receives a final error response within the timeout

  @id:sips-over-wss-delivered @req:7118-9.2-a @level:info @needs:wss @needs:two-users
  Scenario: A sips: request for a user registered over WSS is delivered (recorded)
    Given an open secure SIP WebSocket connection "bob"
    And "bob" is registered
    And an open secure SIP WebSocket connection "alice"
    When "alice" sends:
      """
      MESSAGE sips:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sips:{alice}@{domain}>;tag={tag}
      To: <sips:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request

  @id:record-route-ws-hop @req:7118-5.2-a @level:must @needs:two-users
  Scenario: The Record-Route URIs the target writes for a WS-to-WS call say transport=ws
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
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    And the Record-Route values facing the WebSocket hops of the INVITE "bob" received name a WebSocket transport

  @id:record-route-wss-hop @req:7118-5.2-a @req:5658-6.2-b @level:must @needs:wss @needs:two-users
  Scenario: The Record-Route URIs for a WSS-to-WS call say transport=ws or wss (style recorded, A1)
    Given an open secure SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    And the Record-Route values facing the WebSocket hops of the INVITE "bob" received name a WebSocket transport
    And no Record-Route value facing a WebSocket hop of the INVITE "bob" received has transport=tls
