@subject:record-route
Feature: The SIP WebSocket server record-routes and loose-routes so it stays in the dialog
  A WebSocket client can only be reached over its own connection, so the server must stay in
  every dialog it forwards (RFC 7118 Appendix B.2): it Record-Routes the dialog-forming
  request — with two values, one per side, when the transports differ (RFC 5658 §6.2, RFC 7118
  §8.2 F3) — consumes its own Route values (RFC 3261 §16.4, RFC 5658 §5) and forwards
  in-dialog requests both ways. It forwards like any proxy (RFC 3261 §16.6): its own Via with
  a new branch, Max-Forwards one less per proxy, 483 when Max-Forwards is 0.

  The UDP phone is a UDP socket of the harness that registers on the target's SIP/UDP side and
  answers like RFC 7118 §8.2's Bob.

  @id:ws-to-udp-two-record-routes @req:5658-6.2-a @level:should @needs:udp
  Scenario: An INVITE from a WS client to a UDP phone carries two Record-Route values, udp on top and ws below
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then the UDP phone "bob" receives an INVITE
    And the INVITE "bob" received carries at least 2 Record-Route values
    And the Record-Route transports of the INVITE "bob" received are udp then ws

  @id:ws-to-udp-flow-token @req:5626-5.3.2-a @level:info @needs:udp
  Scenario: The WS-side Record-Route value carries a flow token in its user part, as in RFC 7118 §8.2 F3
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then the UDP phone "bob" receives an INVITE
    And the Record-Route value with transport=ws of the INVITE "bob" received has a user part

  @id:ws-to-udp-proxy-via @req:3261-16.6-d @level:must @needs:udp
  Scenario: The INVITE reaching the UDP phone has the target's own Via (UDP, new z9hG4bK branch) above alice's
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
    Then the UDP phone "bob" receives an INVITE
    And the INVITE "bob" received has a new top Via with transport UDP above the Via of "alice"

  @id:ws-to-udp-max-forwards @req:3261-16.6-e @level:must @needs:udp
  Scenario: The INVITE reaching the UDP phone has Max-Forwards one less than alice sent per proxy it passed
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
    Then the UDP phone "bob" receives an INVITE
    And the INVITE "bob" received has Max-Forwards 70 less one per Via the target added above "alice"'s

  @id:ws-to-udp-content-length @req:3261-18.3-b @level:info @needs:udp
  Scenario: The INVITE forwarded to UDP carries a Content-Length matching its body (recorded)
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
      Content-Type: application/sdp

      v=0
      o=alice 1 1 IN IP4 0.0.0.0
      s=-
      c=IN IP4 0.0.0.0
      t=0 0
      m=audio 9 UDP/TLS/RTP/SAVPF 0
      """
    Then the UDP phone "bob" receives an INVITE
    And the INVITE "bob" received has a Content-Length matching its body

  @id:ws-to-udp-200-relayed @req:3261-16.7-a @level:info @needs:udp
  Scenario: The UDP phone's 200 reaches alice with the Record-Route unchanged (rewriting is allowed, recorded)
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
    Then the UDP phone "bob" receives an INVITE
    When the UDP phone "bob" answers 200
    Then "alice" receives a final response with status 200
    And the Record-Route of the 200 "alice" received is the one "bob" received

  @id:ws-to-udp-ack-by-route-set @req:3261-16.4-a @req:5658-5-a @level:must @needs:udp
  Scenario: alice's ACK sent by her route set reaches the UDP phone with no Route left
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
    Then the UDP phone "bob" receives an INVITE
    When the UDP phone "bob" answers 200
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then the UDP phone "bob" receives an ACK
    And the ACK "bob" received has no Route header

  @id:udp-bye-reaches-ws-client @req:7118-B.2-b @req:5626-5.3.2-a @req:3261-16.4-a @level:must @needs:udp
  Scenario: The UDP phone's BYE, sent by its route set, reaches alice on her WebSocket connection (RFC 7118 §8.2 F8-F11)
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
    When "alice" sends:
      """
      INVITE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Supported: path, outbound, gruu
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then the UDP phone "bob" receives an INVITE
    When the UDP phone "bob" answers 200
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then the UDP phone "bob" receives an ACK
    When the UDP phone "bob" sends BYE in the dialog
    Then "alice" receives a BYE request
    And the BYE "alice" received has no Route header
    When "alice" answers 200
    Then the UDP phone "bob" receives a final response with status 200

  @id:ws-bye-reaches-udp-phone @req:7118-B.2-b @req:3261-16.4-a @level:must @needs:udp
  Scenario: alice's BYE, sent by her route set, reaches the UDP phone with no Route left
    Given a UDP phone "bob" registered with the target
    And an open SIP WebSocket connection "alice"
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
    Then the UDP phone "bob" receives an INVITE
    When the UDP phone "bob" answers 200
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then the UDP phone "bob" receives an ACK
    When "alice" sends BYE in the dialog
    Then the UDP phone "bob" receives a BYE
    And the BYE "bob" received has no Route header
    When the UDP phone "bob" answers 200
    Then "alice" receives a final response with status 200

  @id:wss-to-ws-two-record-routes @req:5658-6.2-a @level:should @needs:wss @needs:two-users
  Scenario: An INVITE from a WSS client to a WS client carries two Record-Route values, one per side
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
    And the INVITE "bob" received carries at least 2 Record-Route values
    And the Record-Route transports of the INVITE "bob" received are ws then ws or wss

  @id:wss-record-route-no-transport-tls @req:5658-6.2-b @level:must @needs:wss @needs:two-users
  Scenario: No Record-Route value on a WSS-to-WS call says transport=tls
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
    And the INVITE "bob" received carries a Record-Route of the target
    And no Record-Route value facing a WebSocket hop of the INVITE "bob" received has transport=tls

  @id:wss-to-ws-in-dialog-both-ways @req:7118-B.2-b @req:3261-16.4-a @level:must @needs:wss @needs:two-users
  Scenario: In a WSS-to-WS dialog, ACK, INFO and BYE travel both ways by the route sets
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
    When "bob" accepts the INVITE
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then "bob" receives an ACK request
    And the ACK "bob" received has no Route header
    When "bob" sends INFO in the dialog
    Then "alice" receives an INFO request
    And the INFO "alice" received has no Route header
    When "alice" answers 200
    Then "bob" receives a final response with status 200
    When "alice" sends BYE in the dialog
    Then "bob" receives a BYE request
    And the BYE "bob" received has no Route header
    When "bob" answers 200
    Then "alice" receives a final response with status 200

  @id:ws-to-ws-record-route @req:3261-16.6-b @level:must @needs:two-users
  Scenario: An INVITE between two WS clients is record-routed (one or two values, each with lr)
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
    And the INVITE "bob" received carries a Record-Route of the target

  @id:ws-to-ws-in-dialog-both-ways @req:7118-B.2-b @req:3261-16.4-a @level:must @needs:two-users
  Scenario: In a WS-to-WS dialog, ACK, INFO and BYE travel both ways by the route sets
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
    When "bob" accepts the INVITE
    Then "alice" receives a final response with status 200
    When "alice" sends ACK in the dialog
    Then "bob" receives an ACK request
    And the ACK "bob" received has no Route header
    When "bob" sends INFO in the dialog
    Then "alice" receives an INFO request
    And the INFO "alice" received has no Route header
    When "alice" answers 200
    Then "bob" receives a final response with status 200
    When "alice" sends BYE in the dialog
    Then "bob" receives a BYE request
    And the BYE "bob" received has no Route header
    When "bob" answers 200
    Then "alice" receives a final response with status 200

  @id:sips-record-route-is-sips @req:3261-16.6-c @level:must @needs:wss @needs:two-users
  Scenario: A sips: INVITE to a sips: Contact, WSS to WSS, is record-routed with sips: URIs
    Given an open secure SIP WebSocket connection "alice"
    And an open secure SIP WebSocket connection "bob"
    When "bob" sends:
      """
      REGISTER sips:{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sips:{bob}@{domain}>;tag={tag}
      To: <sips:{bob}@{domain}>
      Call-ID: reg-{call-id}
      CSeq: 1 REGISTER
      Contact: <sips:{bob}@{host};transport=ws>
      Content-Length: 0
      """
    Then "bob" receives a response with status 200
    When "alice" sends:
      """
      INVITE sips:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WSS {host};branch={branch}
      Max-Forwards: 70
      From: <sips:{alice}@{domain}>;tag={tag}
      To: <sips:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Contact: <sips:{alice}@{host};transport=ws;ob>
      Content-Length: 0
      """
    Then "bob" receives an INVITE request
    And every Record-Route value of the INVITE "bob" received is a sips: URI

  @id:max-forwards-decremented @req:3261-16.6-e @level:must @needs:two-users
  Scenario: A MESSAGE forwarded between WS clients has Max-Forwards one less per proxy it passed
    Given an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 7
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request
    And the MESSAGE "bob" received has Max-Forwards 7 less one per Via the target added above "alice"'s

  @id:max-forwards-zero-483 @req:3261-16.3-a @level:must @needs:two-users
  Scenario: A request with Max-Forwards 0 for a registered user gets 483 and is not forwarded
    Given an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 0
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "alice" receives a final response with status 483
    And nothing arrives on "bob" within the timeout

  @id:preloaded-route-consumed @req:3261-16.4-a @level:must @needs:two-users
  Scenario: A pre-loaded Route naming the target, as in RFC 7118 §8.2 F1, is consumed
    Given an open SIP WebSocket connection "alice"
    And "bob" is registered
    When "alice" sends, with routing placeholders:
      """
      MESSAGE sip:{bob}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      Route: <sip:{target-ws};transport=ws;lr>
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:{bob}@{domain}>
      Call-ID: {call-id}
      CSeq: 1 MESSAGE
      Content-Length: 0
      """
    Then "bob" receives a MESSAGE request
    And the MESSAGE "bob" received has no Route header

  @id:stream-forward-content-length @req:3261-16.6-a @level:must
  Scenario: An INVITE without Content-Length forwarded onto TCP gets a correct one
    Given a listener standing in for "bob"'s address
    And an open SIP WebSocket connection "alice"
    When "alice" sends, with routing placeholders:
      """
      INVITE sip:bob@{listener};transport=tcp SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{alice}@{domain}>;tag={tag}
      To: <sip:bob@{listener}>
      Call-ID: {call-id}
      CSeq: 1 INVITE
      Contact: <sip:{alice}@{host};transport=ws;ob>
      Content-Type: application/sdp

      v=0
      o=alice 1 1 IN IP4 0.0.0.0
      s=-
      c=IN IP4 0.0.0.0
      t=0 0
      m=audio 9 UDP/TLS/RTP/SAVPF 0
      """
    Then the listener receives a SIP request over TCP
    And the request the listener received has a Content-Length matching the body "alice" sent
