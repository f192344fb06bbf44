print("otp")
