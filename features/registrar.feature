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
