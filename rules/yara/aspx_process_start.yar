rule aspx_process_start
{
    meta:
        id = "shellward-yara-aspx-process-start"
        title = "ASP.NET Page Starts A Process From The Request"
        description = "An ASP.NET page (aspx, ashx, asmx) that starts a process (Process.Start, ProcessStartInfo, cmd.exe /c), from Request input or a form control: an ASPX command shell"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003, attack.execution, attack.t1059.003"
        author = "shellward"
    strings:
        $proc = /(process\.start\s*\(|new\s+(system\.diagnostics\.)?processstartinfo\b|\.startinfo\.(filename|arguments)\b)/ nocase
        $req = /request\s*(\.\s*(form|querystring|params|item|headers|cookies|inputstream))?\s*[\[\(\.]/ nocase
        $cmd = /cmd(\.exe)?["']?\s*[,+]?\s*["']?\s*\/c/ nocase
        $page = /<%@\s*(page|webhandler|webservice)\b/ nocase
    condition:
        ($proc and ($req or $page)) or ($page and $cmd and $req)
}
