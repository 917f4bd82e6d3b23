@subject:registrar
Feature: The registrar behind a SIP WebSocket server
  A WebSocket client registers over its connection (RFC 3261 §10, RFC 5626 §6, RFC 5627 §5);
  the registrar keys the binding by AoR, instance and reg-id, confirms Outbound and lists the
  current contacts with their expiry.

  @id:outbound-register-confirmed @req:5626-6-c @level:must @needs:outbound
  Scenario: An Outbound REGISTER like RFC 7118 §8.1 F3 gets 200 with Require: outbound
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 REGISTER
      Max-Forwards: 70
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>"
      """
    Then "alice" receives a response with status 200
    And the response has the header "Require"

  @id:f3-200-lists-the-contact-with-expires @req:3261-10.3-b @req:5626-6-c @req:5627-5.2-a @level:must @needs:outbound
  Scenario: The 200 to an RFC 7118 §8.1 F3 REGISTER lists our contact with expires, reg-id and instance
    RFC 3261 §10.3 step 8: every current binding, each with its expires (JsSIP and SIP.js drop a
    200 without it); RFC 5626 §6 keeps every Contact parameter; RFC 5627 §5.2 returns the instance.
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response lists 1 contact
    And the response's Contact for "alice" has the parameter "expires"
    And the response's Contact for "alice" has the parameter "reg-id" with the value "1"
    And the response's Contact for "alice" has the instance "urn:uuid:00000000-0000-4000-8000-0000000a11ce"

  @id:f3-require-lists-outbound @req:5626-6-c @level:must @needs:outbound
  Scenario: The 200 to an Outbound REGISTER lists "outbound" in Require (RFC 7118's own F4 omits it, A14)
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's "Require" header contains "outbound"

  @id:f3-no-gruu-option-tag @req:5627-5.2-a @level:should @needs:gruu
  Scenario: The 200 lists "gruu" neither in Supported nor in Require (RFC 7118's own F4 does, A14)
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's "Supported" header does not contain "gruu"
    And the response's "Require" header does not contain "gruu"

  @id:f3-gruus-in-the-contact @req:5627-5.2-a @req:5627-7-a @req:7118-B-a @level:must @needs:gruu
  Scenario: With Supported: gruu the 200's Contact carries a pub-gruu and a temp-gruu as quoted SIP URIs
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu

  @id:pub-gruu-is-the-aor-with-gr @req:5627-5.1-b @req:5627-5.2-a @level:must @needs:gruu
  Scenario: The public GRUU is the AoR with gr added (the instance, as RFC 7118 §8.1 F4 shows)
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu
    And the pub-gruu of "alice" is "sip:{alice}@{domain};gr=urn:uuid:00000000-0000-4000-8000-0000000a11ce"

  @id:contact-equal-to-the-aor-is-403 @req:5627-5.1-a @level:must @needs:gruu
  Scenario: Registering the AoR itself as a contact with an instance is refused with 403
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{domain}>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 403

  @id:gruu-as-contact-is-403 @req:5627-5.1-a @level:must @needs:gruu
  Scenario: Registering one's own public GRUU as a contact with an instance is refused with 403
    Given "alice" is registered over WS
    When "alice" sends, with the GRUUs filled in:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: loop-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound, gruu
      Contact: <{pub-gruu:alice}>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000100b>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 403

  @id:non-sip-contact-with-instance-is-403 @req:5627-5.1-a @level:must @needs:gruu
  Scenario: Registering a contact that is not a SIP URI with an instance is refused with 403
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
      Supported: path, outbound, gruu
      Contact: <tel:+15555550100>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 403

  @id:client-suggested-gruus-are-ignored @req:5627-5.1-b @level:must @needs:gruu
  Scenario: GRUUs the client puts in its Contact are ignored; the registrar hands out its own
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>";pub-gruu="sip:mallory@example.net;gr=x";temp-gruu="sip:mallory@example.net;gr"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu
    And the pub-gruu of "alice" is not "sip:mallory@example.net;gr=x"
    And the temp-gruu of "alice" is not "sip:mallory@example.net;gr"

  @id:message-to-the-pub-gruu-reaches-the-instance @req:5627-6.1-a @req:7118-B-a @level:must @needs:gruu @needs:two-users
  Scenario: A MESSAGE to the public GRUU is delivered to that instance's connection
    Given "alice" is registered over WS
    And an open SIP WebSocket connection "bob"
    When "bob" sends, with the GRUUs filled in:
      """
      MESSAGE {pub-gruu:alice} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <{pub-gruu:alice}>
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

  @id:message-to-the-temp-gruu-reaches-the-instance @req:5627-6.1-a @level:must @needs:gruu @needs:two-users
  Scenario: A MESSAGE to the temporary GRUU is delivered to that instance's connection
    Given "alice" is registered over WS
    And an open SIP WebSocket connection "bob"
    When "bob" sends, with the GRUUs filled in:
      """
      MESSAGE {temp-gruu:alice} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <{temp-gruu:alice}>
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

  @id:pub-gruu-after-unregistration-is-480 @req:5627-5.3-a @level:should @needs:gruu @needs:two-users
  Scenario: After the instance unregisters, its public GRUU stays valid and answers 480
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu
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
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>";expires=0
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response has no Contact for "alice"
    When "bob" sends, with the GRUUs filled in:
      """
      MESSAGE {pub-gruu:alice} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <{pub-gruu:alice}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "bob" receives an error response, preferably 480

  @id:unknown-gr-is-404 @req:5627-6.1-a @level:should @needs:gruu @needs:two-users
  Scenario: A gr naming an instance that never registered is an unknown GRUU: 404
    RFC 5627 §6.1: a Request-URI with gr that is not a valid GRUU SHOULD get 404, even when its AoR
    has registered contacts (480 is for a valid GRUU with no contact bound).
    Given "alice" is registered over WS
    And an open SIP WebSocket connection "bob"
    When "bob" sends:
      """
      MESSAGE sip:{alice}@{domain};gr=urn:uuid:00000000-0000-4000-8000-00000000dead SIP/2.0
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
    Then "bob" receives an error response, preferably 404

  @id:new-call-id-invalidates-the-temp-gruu @req:5627-5.1-b @level:must @needs:gruu @needs:two-users
  Scenario: A refresh with a new Call-ID invalidates the earlier temporary GRUU (404 from then on)
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "bob"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: first-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: second-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response's Contact for "alice" carries a pub-gruu and a temp-gruu
    When "bob" sends, with the GRUUs filled in:
      """
      MESSAGE {previous-temp-gruu:alice} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <{previous-temp-gruu:alice}>
      Call-ID: msg-{call-id}
      CSeq: {n} MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: 5

      hello
      """
    Then "bob" receives an error response, preferably 404

  @id:star-with-expires-0-removes-every-binding @req:3261-10.3-c @level:must
  Scenario: "Contact: *" with "Expires: 0" removes every binding of the AoR, from every device
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
      Call-ID: second-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
    And the response lists 2 contacts
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: *
      Expires: 0
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response lists 0 contacts

  @id:star-with-non-zero-expires-is-400 @req:3261-10.3-c @level:must
  Scenario: "Contact: *" with a non-zero Expires is an invalid request: 400
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
      Contact: *
      Expires: 3600
      Content-Length: 0
      """
    Then "alice" receives a response with status 400

  @id:expires-0-removes-one-binding @req:3261-10.3-d @level:must
  Scenario: A contact with expires=0 removes that binding and leaves the other device's
    Given an open SIP WebSocket connection "alice"
    And an open SIP WebSocket connection "alice2"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: first-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: second-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
    And the response lists 2 contacts
    When "alice2" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: second-{call-id}
      CSeq: {n} REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>;expires=0
      Content-Length: 0
      """
    Then "alice2" receives a response with status 200
    And the response lists 1 contact
    And the response's Contact for "alice" has the parameter "expires"
    And the response has no Contact for "alice2"

  @id:older-cseq-does-not-overwrite @req:3261-10.3-d @level:must
  Scenario: A REGISTER with the same Call-ID and a lower CSeq fails and leaves the binding alone
    RFC 3261 §10.3 step 7: out-of-order requests from the same UA are ignored; a later query
    (a REGISTER without Contact) still lists the binding.
    Given an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 100 REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 50 REGISTER
      Max-Forwards: 70
      Contact: <sip:{alice}@{host};transport=ws>;expires=0
      Content-Length: 0
      """
    Then "alice" receives an error response, preferably 500
    When "alice" sends:
      """
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: {call-id}
      CSeq: 101 REGISTER
      Max-Forwards: 70
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response lists 1 contact
    And the response's Contact for "alice" has the parameter "expires"

  @id:refresh-keeps-one-binding @req:3261-10.3-d @req:5626-6-c @level:must
  Scenario: Refreshing a registration (same instance and reg-id) updates the binding, never adds one
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>"
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
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
      Contact: <sip:{alice}@{host};transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-0000000a11ce>";expires=600
      Content-Length: 0
      """
    Then "alice" receives a response with status 200
    And the response lists 1 contact
    And the response's Contact for "alice" has the parameter "expires"

  @id:too-short-expiry @req:3261-10.3-a @level:must
  Scenario: A too brief expiry is refused with 423 and a Min-Expires above it, or accepted
    RFC 3261 §10.3 step 7: the registrar MAY refuse with 423, which MUST then carry Min-Expires;
    which answer the target chose is recorded.
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
      Expires: 1
      Content-Length: 0
      """
    Then "alice" receives a 423 whose Min-Expires exceeds 1, or a 200

  @id:register-without-content-length @req:7118-5-d @req:3261-18.3-a @level:must
  Scenario: A REGISTER without Content-Length is accepted (WebSocket frames the message)
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
      """
    Then "alice" receives a 200 or an authentication challenge

  @id:sip-authentication-may-be-demanded @req:7118-7-f @level:may
  Scenario: The registrar may demand SIP authentication over an accepted WebSocket connection
    Whether it does is recorded; a challenge must carry its WWW-Authenticate or
    Proxy-Authenticate header.
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
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws>
      Content-Length: 0
      """
    Then "alice" receives a 200 or an authentication challenge
