rule asp_shell_objects
{
    meta:
        id = "shellward-yara-asp-shell-objects"
        title = "ASP Page Drives A Shell Or The File System From The Request"
        description = "A classic ASP page that takes Request input and creates WScript.Shell, Shell.Application or WScript.Network, or writes files with Scripting.FileSystemObject or ADODB.Stream: ASP command shells, file managers and uploaders"
        level = "high"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $req = /request\s*(\.\s*(form|querystring|item|cookies|servervariables))?\s*\(/ nocase
        $wsh = /createobject\s*\(\s*["'](wscript\.shell|shell\.application|wscript\.network)["']/ nocase
        $fso = /createobject\s*\(\s*["']scripting\.filesystemobject["']/ nocase
        $stream = /createobject\s*\(\s*["']adodb\.stream["']/ nocase
        $write = /\.(createtextfile|savetofile|copyfile|deletefile|movefile|createfolder|deletefolder)\s*\(|\.opentextfile\s*\([^\)]{1,200},\s*[28]\b/ nocase
        $run = /\.(run|exec|shellexecute)\s*[\( ]/ nocase
        $drives = /\.drives\b/ nocase
    condition:
        $req and (($wsh and $run) or (($fso or $stream) and ($write or $drives)))
}
