module go_peer

go 1.19
