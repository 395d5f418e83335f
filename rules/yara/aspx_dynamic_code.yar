rule aspx_dynamic_code
{
    meta:
        id = "shellward-yara-aspx-dynamic-code"
        title = "Server-Side JScript Or ASP.NET Runs Code Sent In The Request"
        description = "JScript eval in a server page (China Chopper's ASPX and ASP forms, and their obfuscated variants), or an assembly loaded or compiled from request bytes, often AES-decrypted first (Behinder, Godzilla, AntSword ASPX)"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $jscript = /eval\s*\(\s*request\s*(\.\s*(item|form|querystring)\s*)?[\[\(]/ nocase
        $load = /assembly\s*\.\s*load\s*\(/ nocase
        $b64 = "FromBase64String" nocase
        $crypto = /(rijndaelmanaged|aesmanaged|aes\.create|createdecryptor|transformfinalblock)/ nocase
        $req = /request\s*(\.\s*(form|item|inputstream|binaryread|params|querystring)|\s*\[)/ nocase
        $compile = /(compileassemblyfromsource|csharpcodeprovider|codedomprovider)/ nocase
        $jscript_page = /<%@\s*(page|webhandler)\b[^>]{0,120}language\s*=\s*["']?jscript/ nocase
        $eval = /\beval\s*\(/ nocase
        $jscript_block = /<script\s[^>]{0,80}(runat\s*=\s*["']?server["']?[^>]{0,80}language\s*=\s*["']?j(ava)?script|language\s*=\s*["']?j(ava)?script["']?[^>]{0,80}runat\s*=\s*["']?server)/ nocase
        $jscript_asp = /<%@\s*language\s*=\s*["']?j(ava)?script/ nocase
        $eval_map = /:\s*eval\s*[,}]/ nocase
    condition:
        (($jscript_page or $jscript_block or $jscript_asp) and ($eval or $eval_map)) or $jscript or ($load and $req and ($b64 or $crypto)) or ($compile and $req)
}
