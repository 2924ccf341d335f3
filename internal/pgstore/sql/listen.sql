-- Listen subscribes the session to the store's notify channel.
LISTEN {{.Channel}}
