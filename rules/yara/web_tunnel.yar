rule web_tunnel
{
    meta:
        id = "shellward-yara-web-tunnel"
        title = "Web Page Tunnels Sockets Through HTTP"
        description = "A server page that opens network connections on the request's behalf and relays their bytes (reGeorg, Neo-reGeorg, Tunna, ABPTTS, pystinger): a SOCKS proxy into the internal network through the web server"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.command_and_control, attack.t1572, attack.t1090"
        author = "shellward"
    strings:
        $georg = "Georg says, 'All seems fine'" nocase
        $xcmd = /["']X-(CMD|STATUS|ERROR|TARGET|PORT)["']/ nocase
        $jsp_socket = /(socketchannel\s*\.\s*open\s*\(|new\s+(java\.net\.)?socket\s*\()/ nocase
        $jsp_req = /request\s*\.\s*getheader\s*\(/ nocase
        $net_socket = /new\s+(system\.net\.sockets\.)?(socket|tcpclient)\s*\(/ nocase
        $net_req = /request\s*\.\s*headers\s*[\[\.]/ nocase
        $php_socket = /\b(fsockopen|stream_socket_client|socket_create)\s*\(/ nocase
        $php_req = /\$_SERVER\s*\[\s*["']HTTP_X_/ nocase
        $abptts = "ABPTTS" nocase
        $tunna = /tunna/ nocase
    condition:
        $georg or $abptts or ($xcmd and ($jsp_socket or $net_socket or $php_socket))
        or ($jsp_socket and $jsp_req and $xcmd) or ($net_socket and $net_req and $xcmd)
        or ($php_socket and $php_req) or ($tunna and ($jsp_socket or $net_socket or $php_socket))
}
