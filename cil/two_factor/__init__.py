"""The second factor: a TOTP application (django-otp) with single-use backup codes.

Every user may turn it on; a conference's secretariat may require it for chosen roles in that
conference (`Conference.two_factor_roles`, enforced by `middleware.ConferenceTwoFactorMiddleware`).
The login asks the code after the password when the user has a device, and wrong codes count
towards the same django-axes lockout as wrong passwords.
"""
