"""National sign-in: Pro Santé Connect (professionals) and FranceConnect+ (persons, carers).

Two allauth OAuth2 providers built on one OpenID Connect core (`portal.signin.oidc`) that
does what allauth's generic provider does not: the non-standard discovery name of Pro
Santé Connect, a nonce checked on return, the returned `acr` checked, id_token and
userinfo signatures always verified against the provider's JWKS, and FranceConnect+'s
encrypted (JWE) id_token and userinfo. Which local account a national identity opens is
decided in `portal.signin.linking`; what the sign-in proves for the MFA rule in
`portal.signin.assurance`.
"""
