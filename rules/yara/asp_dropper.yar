rule asp_dropper
{
    meta:
        id = "shellward-yara-asp-dropper"
        title = "ASP Page Downloads And Saves A File"
        description = "A classic ASP page that fetches a URL with XMLHTTP and saves the bytes with ADODB.Stream, or writes a script file to disk that does: the stage that brings the full web shell or a tool onto the server"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.command_and_control, attack.t1105"
        author = "shellward"
    strings:
        $xmlhttp = /(microsoft|msxml2(\.server)?)\.xmlhttp/ nocase
        $stream = /createobject\s*\(\s*["']adodb\.stream["']/ nocase
        $save = /\.savetofile\b/ nocase
        $fso = /createobject\s*\(\s*["']scripting\.filesystemobject["']/ nocase
        $textfile = /\.createtextfile\s*\(\s*["'][a-z]:\\/ nocase
        $asp = "<%"
    condition:
        $asp and (($xmlhttp and $stream and $save) or ($fso and $textfile and $xmlhttp))
}
