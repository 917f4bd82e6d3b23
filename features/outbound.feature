@subject:outbound
Feature: SIP Outbound at a registrar that is also the WebSocket server
  A registrar that supports Outbound (RFC 5626 §6) keys an Outbound binding by AoR, instance and
  reg-id, confirms it with "Require: outbound", and ties it to the flow it arrived on: requests go
  over that very connection (§7), a re-registration over another connection moves them (§6), and a
  closed connection takes its bindings with it (§7). Behind another proxy it relies on the Path
  (RFC 3327 §5.3): without "ob" in the first Path URI it is not the first hop, and a REGISTER that
  asks for Outbound then gets 439 (RFC 5626 §6, §11.6). RFC 7118 Appendix B.2 expects a SIP
  WebSocket server to be such an Outbound edge, with Path.

  @id:reg-id-without-instance-is-ignored @req:5626-6-b @req:5626-6-c @level:must
  Scenario: A reg-id without +sip.instance is ignored: 200 without "Require: outbound"
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's "Require" header does not contain "outbound"

  @id:no-supported-outbound-no-require @req:5626-6-c @level:must
  Scenario: Without "Supported: outbound" there is no Outbound processing and no "Require: outbound"
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
      Supported: path
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's "Require" header does not contain "outbound"

  @id:two-reg-id-contacts-are-400 @req:5626-6-b @level:should @needs:outbound
  Scenario: Two non-zero-expiry contacts with a reg-id in one REGISTER are refused with 400
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Contact: <sip:{alice}-2@{host};transport=ws>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 400

  @id:two-reg-ids-are-two-bindings @req:5626-6-c @level:must @needs:outbound
  Scenario: The same instance registering reg-id 1 and reg-id 2 on two connections holds two bindings
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
    And the response's "Require" header contains "outbound"
    And the response lists 2 contacts
    And the response's Contact for "alice" has the parameter "reg-id" with the value "1"
    And the response's Contact for "alice2" has the parameter "reg-id" with the value "2"

  @id:path-without-ob-with-reg-id-is-439 @req:5626-6-a @level:must @needs:outbound
  Scenario: Behind a proxy whose Path has no "ob", a REGISTER asking for Outbound gets 439
    The connection plays an edge proxy that relays the client's REGISTER and adds its Path.
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:edge.example.net;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 69
      Supported: path, outbound
      Contact: <sip:{alice}@ua-{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "edge" receives a response with status 439

  @id:path-without-ob-without-reg-id-is-not-439 @req:5626-11.6-a @req:5626-6-a @level:must @needs:outbound
  Scenario: Behind a proxy whose Path has no "ob", a REGISTER without reg-id registers normally
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:edge.example.net;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 69
      Supported: path, outbound
      Contact: <sip:{alice}@ua-{host};transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "edge" receives a response with status 200
    And the response's "Require" header does not contain "outbound"

  @id:path-without-ob-without-supported-outbound-is-not-439 @req:5626-11.6-a @req:5626-6-a @level:must @needs:outbound
  Scenario: Behind a proxy whose Path has no "ob", a reg-id without "Supported: outbound" is ignored, never 439
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:edge.example.net;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 69
      Supported: path
      Contact: <sip:{alice}@ua-{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "edge" receives a response with status 200
    And the response's "Require" header does not contain "outbound"

  @id:path-with-ob-gets-outbound @req:5626-6-a @req:5626-6-c @level:must @needs:outbound
  Scenario: Behind a first-hop edge whose Path carries "ob", Outbound applies: 200 with "Require: outbound"
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:flow1@edge.example.net;lr;ob>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 69
      Supported: path, outbound
      Contact: <sip:{alice}@ua-{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "edge" receives a response with status 200
    And the response's "Require" header contains "outbound"

  @id:path-is-echoed-in-order @req:3327-5.3-a @req:7118-B.2-a @level:must @needs:path
  Scenario: The Path values of a REGISTER come back in the 200, in order, across header lines
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS p2-{host};branch=z9hG4bKp2{n}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:flow1@p1.example.net;lr;ob>
      Path: <sip:p2.example.net;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 68
      Supported: path
      Contact: <sip:{alice}@ua-{host};transport=ws>
      Content-Length: 0
      """
    Then "edge" receives a response with status 200
    And the response's Path is "<sip:flow1@p1.example.net;lr;ob>, <sip:p2.example.net;lr>"

  @id:delivery-uses-the-registering-connection @req:5626-7-c @level:must @needs:outbound @needs:two-users
  Scenario: A request for the AoR goes over the connection that registered it
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
    Then "alice" receives a MESSAGE request
    And "alice" answers 200
    And "bob" receives a response with status 200

  @id:reregistration-on-another-connection-moves-delivery @req:5626-6-d @level:must @needs:outbound @needs:two-users
  Scenario: Re-registering the same instance and reg-id over a new connection moves delivery there
    The device loses its first connection's usefulness, re-registers over a second one (same
    instance, same reg-id), then the first connection closes: a MESSAGE reaches the second.
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
    And the response lists 1 contact
    When "alice" closes the connection
    And "bob" sends:
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
    Then "alice2" receives a MESSAGE request
    And "alice2" answers 200
    And "bob" receives a response with status 200

  @id:closed-connection-invalidates-its-bindings @req:5626-7-d @req:3261-16.5-a @level:must @needs:outbound @needs:two-users
  Scenario: Once the registering connection closes, a request for the AoR is refused (480, or 430)
    Given "alice" is registered over WS
    And an open SIP WebSocket connection "bob"
    When "alice" closes the connection
    And "bob" sends:
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
    Then "bob" receives the answer for a flow that is gone

  @id:closed-connection-invalidates-every-aor @req:5626-7-d @level:must @needs:two-users
  Scenario: A closed connection invalidates the bindings of every AoR registered over it
    Given an open SIP WebSocket connection "shared"
    And an open SIP WebSocket connection "bob"
    When "shared" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: alice-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "shared" receives a response with status 200
    When "shared" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{carol}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: carol-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{carol}@{host};transport=ws>
      Content-Length: 0
      """
    Then "shared" receives a response with status 200
    When "shared" closes the connection
    And "bob" sends:
      """
      MESSAGE sip:{carol}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{carol}@{domain}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "bob" receives the answer for a flow that is gone

  @id:reg-id-0-is-recorded @req:5626-10-a @level:info @needs:outbound
  Scenario: The answer to a REGISTER with reg-id=0 (outside 1..2^31-1, unspecified) is recorded
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=0;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a final response, which is recorded

  @id:path-without-supported-path-is-recorded @req:3327-5.3-a @level:info
  Scenario: The answer to a REGISTER with a Path but no "Supported: path" is recorded (420 recommended)
    Given an open SIP WebSocket connection "edge"
    When "edge" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Via: SIP/2.0/WS ua-{host};branch=z9hG4bKua{n}
      Path: <sip:edge.example.net;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 69
      Contact: <sip:{alice}@ua-{host};transport=ws>
      Content-Length: 0
      """
    Then "edge" receives a final response, which is recorded

  @id:one-instance-one-target-at-a-time @req:5626-7-a @level:must @needs:outbound @needs:two-users
  Scenario: With two flows of one instance (reg-id 1 and 2), a request reaches only one of them at a time
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
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
    Then exactly one of "alice2" and "alice" receives the MESSAGE
    And the device that received the MESSAGE answers 200
    And "bob" receives a response with status 200

  @id:430-moves-to-the-other-reg-id @req:5626-7-b @req:5626-11.5-a @level:should @needs:outbound @needs:two-users
  Scenario: When one flow of the instance answers 430 (Flow Failed), the request is tried on its other flow
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
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
    Then one of "alice2" and "alice" receives the MESSAGE
    And the device that received the MESSAGE answers 430
    Then the other device receives the MESSAGE
    And the device that received the MESSAGE answers 200
    And "bob" receives a response with status 200

  @id:486-is-not-tried-on-the-other-reg-id @req:5626-7-b @level:must @needs:outbound @needs:two-users
  Scenario: When one flow of the instance answers 486, the request is not tried on its other flow
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
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
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
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
    Then one of "alice2" and "alice" receives the MESSAGE
    And the device that received the MESSAGE answers 486
    Then "bob" receives a response with status 486
    And the other device receives nothing within the timeout
